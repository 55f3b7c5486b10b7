/**
 * kwok has no built-in behaviour: these Stages tell it how simulated Nodes and
 * Pods progress. Nodes become Ready with generous capacity and keep a
 * heartbeat; scheduled Pods become Running and Ready; Pods being deleted go
 * away, as a kubelet would make them. A Pod with an image whose name contains
 * `never-ready` becomes Running but never Ready, so tests can have a rollout
 * that does not progress.
 */
export const kwokStages = (kubeletVersion: string): string => String.raw`
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kok-node-ready
spec:
  resourceRef: { apiGroup: v1, kind: Node }
  selector:
    matchExpressions:
      - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
        operator: NotIn
        values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      phase: Running
      conditions:
      - { type: Ready, status: "True", reason: KubeletReady, message: "simulated by kwok", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      - { type: MemoryPressure, status: "False", reason: KubeletHasSufficientMemory, message: "", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      - { type: DiskPressure, status: "False", reason: KubeletHasNoDiskPressure, message: "", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      - { type: PIDPressure, status: "False", reason: KubeletHasSufficientPID, message: "", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      - { type: NetworkUnavailable, status: "False", reason: RouteCreated, message: "", lastHeartbeatTime: {{ $now | Quote }}, lastTransitionTime: {{ $now | Quote }} }
      addresses:
      - { type: InternalIP, address: {{ NodeIP | Quote }} }
      - { type: Hostname, address: {{ .metadata.name | Quote }} }
      {{ with .status.capacity }}
      capacity: {{ YAML . 1 }}
      {{ else }}
      capacity: { cpu: "32", memory: 256Gi, pods: "110" }
      {{ end }}
      {{ with .status.allocatable }}
      allocatable: {{ YAML . 1 }}
      {{ else }}
      allocatable: { cpu: "32", memory: 256Gi, pods: "110" }
      {{ end }}
      nodeInfo:
        architecture: amd64
        operatingSystem: linux
        kubeletVersion: {{ or .status.nodeInfo.kubeletVersion "${kubeletVersion}" | Quote }}
        kubeProxyVersion: ""
        containerRuntimeVersion: {{ or .status.nodeInfo.containerRuntimeVersion "kwok" | Quote }}
        kernelVersion: kwok
        osImage: kwok
        machineID: ""
        systemUUID: ""
        bootID: ""
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kok-node-heartbeat
spec:
  resourceRef: { apiGroup: v1, kind: Node }
  selector:
    matchExpressions:
      - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
        operator: In
        values: ['True']
  delay:
    durationMilliseconds: 20000
    jitterDurationMilliseconds: 25000
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      {{ range .status.conditions }}
      - type: {{ .type | Quote }}
        status: {{ .status | Quote }}
        reason: {{ or .reason "" | Quote }}
        message: {{ or .message "" | Quote }}
        lastTransitionTime: {{ .lastTransitionTime | Quote }}
        lastHeartbeatTime: {{ $now | Quote }}
      {{ end }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kok-pod-running
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
      - key: '.metadata.deletionTimestamp'
        operator: DoesNotExist
      - key: '.status.phase'
        operator: In
        values: ['Pending']
      - key: '.spec.containers.[] | .image | contains("never-ready")'
        operator: NotIn
        values: ['true']
  next:
    statusTemplate: |
${podRunning(true)}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kok-pod-running-never-ready
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
      - key: '.metadata.deletionTimestamp'
        operator: DoesNotExist
      - key: '.status.phase'
        operator: In
        values: ['Pending']
      - key: '.spec.containers.[] | .image | contains("never-ready")'
        operator: In
        values: ['true']
  next:
    statusTemplate: |
${podRunning(false)}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: kok-pod-delete
spec:
  resourceRef: { apiGroup: v1, kind: Pod }
  selector:
    matchExpressions:
      - key: '.metadata.deletionTimestamp'
        operator: Exists
  next:
    delete: true
`;

/** The status template of a scheduled Pod that runs, Ready or not. */
function podRunning(ready: boolean): string {
  const status = ready ? '"True"' : '"False"';
  return String.raw`      {{ $now := Now }}
      phase: Running
      startTime: {{ $now | Quote }}
      conditions:
      - { type: PodScheduled, status: "True", lastTransitionTime: {{ $now | Quote }} }
      - { type: Initialized, status: "True", lastTransitionTime: {{ $now | Quote }} }
      - { type: ContainersReady, status: ${status}, lastTransitionTime: {{ $now | Quote }} }
      - { type: Ready, status: ${status}, lastTransitionTime: {{ $now | Quote }} }
      containerStatuses:
      {{ range .spec.containers }}
      - name: {{ .name | Quote }}
        image: {{ .image | Quote }}
        ready: ${ready}
        started: true
        restartCount: 0
        state: { running: { startedAt: {{ $now | Quote }} } }
      {{ end }}
      {{ with NodeIPsWith .spec.nodeName }}
      hostIP: {{ index . 0 | Quote }}
      {{ end }}
      {{ with PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}`;
}

/** The annotation that puts a Node under kwok's management. */
export const kwokNodeAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;
