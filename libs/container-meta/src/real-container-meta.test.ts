import { describe, expect, it } from 'vitest';
import { runningContainerImages, runningTasks } from './real-container-meta.ts';

// As ctr 2.2 prints them (columns padded with spaces).
const TASKS = `TASK                                                                PID      STATUS
4f1c0a                                                              81234    RUNNING
9e0b2d                                                              0        STOPPED
c77e31                                                              81502    RUNNING
`;
const CONTAINERS = `CONTAINER    IMAGE                                         RUNTIME
4f1c0a       registry.k8s.io/kube-apiserver:v1.36.3        io.containerd.runc.v2
9e0b2d       registry.k8s.io/kube-apiserver:v1.35.4        io.containerd.runc.v2
c77e31       registry.k8s.io/pause:3.10                    io.containerd.runc.v2
ffffff       registry.k8s.io/etcd:3.6.5-0                  io.containerd.runc.v2
`;

describe('runningTasks', () => {
  it('keeps the running tasks with their process ids, not stopped ones or the header', () => {
    expect(runningTasks(TASKS)).toEqual(
      new Map([
        ['4f1c0a', 81234],
        ['c77e31', 81502],
      ]),
    );
    expect(runningTasks('TASK    PID    STATUS\n')).toEqual(new Map());
  });
});

describe('runningContainerImages', () => {
  it('names the image of each container that runs, and only those', () => {
    expect(runningContainerImages(CONTAINERS, runningTasks(TASKS))).toEqual(
      new Map([
        ['4f1c0a', 'registry.k8s.io/kube-apiserver:v1.36.3'],
        ['c77e31', 'registry.k8s.io/pause:3.10'],
      ]),
    );
  });
});
