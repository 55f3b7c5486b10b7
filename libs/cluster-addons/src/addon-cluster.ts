/** What the add-ons read of a cluster: its version (kube-proxy's image) and its network. */
export interface AddonCluster {
  /** The Kubernetes version, `v1.36.3`. */
  readonly version: string;
  readonly network: {
    /** The pods' addresses: kube-proxy tells pod traffic from the rest by it. */
    readonly podCIDR: string;
    /** The DNS domain CoreDNS answers for, `cluster.local`. */
    readonly dnsDomain: string;
  };
}
