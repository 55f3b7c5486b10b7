/** The Services: etcd peers (headless) and clients (not for an external etcd), and the apiserver endpoint. */
import { CLUSTER_COMPONENTS } from '@kok/api';
import type { V1Service } from '@kubernetes/client-node';
import { selectorLabels } from '../names.ts';
import { contentHash, templateHashDiffers, withTemplateHash } from '../template-hash.ts';
import type { ControlPlaneComponent, RenderContext } from './component.ts';
import { objectsStatus, ownedMetadata } from './component.ts';

/** Bump to rewrite every Cluster's Services on purpose. */
const TEMPLATE_VERSION = 1;

export const ETCD_CLIENT_PORT = 2379;
export const ETCD_PEER_PORT = 2380;
export const APISERVER_PORT = 6443;

function render(ctx: RenderContext): V1Service[] {
  const { names, cluster } = ctx;
  const hash = contentHash({
    TEMPLATE_VERSION,
    names: [names.etcd, names.apiServerService],
    service: cluster.apiServer.service,
  });
  const etcdPorts = [
    { name: 'client', port: ETCD_CLIENT_PORT, targetPort: 'client' },
    { name: 'peer', port: ETCD_PEER_PORT, targetPort: 'peer' },
  ];
  const etcdServices: V1Service[] = [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ownedMetadata(ctx, names.etcd, 'etcd'),
      spec: {
        clusterIP: 'None',
        // Members must find each other before any of them is Ready: that is how etcd forms a cluster.
        publishNotReadyAddresses: true,
        selector: selectorLabels(names.cluster, 'etcd'),
        ports: etcdPorts,
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ownedMetadata(ctx, names.etcdClientService, 'etcd'),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(names.cluster, 'etcd'),
        ports: [etcdPorts[0] ?? { port: ETCD_CLIENT_PORT }],
      },
    },
  ];
  const services: V1Service[] = [
    ...(cluster.etcd.external ? [] : etcdServices),
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: ownedMetadata(ctx, names.apiServerService, 'kube-apiserver'),
      spec: {
        type: cluster.apiServer.service.type,
        selector: selectorLabels(names.cluster, 'kube-apiserver'),
        ports: [
          { name: 'https', port: cluster.apiServer.service.port, targetPort: 'https', protocol: 'TCP' },
        ],
      },
    },
  ];
  return services.map((service) => withTemplateHash(service, hash));
}

export const services: ControlPlaneComponent = {
  ...CLUSTER_COMPONENTS.services,
  render,
  needsUpdate: templateHashDiffers,
  status: (observed, desired) => objectsStatus('Services', observed, desired, templateHashDiffers),
};
