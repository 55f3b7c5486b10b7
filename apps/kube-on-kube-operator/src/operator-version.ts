/**
 * The release of this operator. Bumped by hand with each release, together
 * with the chart's appVersion (a test keeps the two equal): it is the
 * node-operator version a Cluster gets when spec.nodeOperator.version is
 * empty, so a release that bumps it rolls every such node-operator, and
 * nothing else.
 */
export const OPERATOR_VERSION = '0.1.0';

/** Where the kok images live: `<registry>/node-operator:<version>` (the charts' default). */
export const KOK_IMAGE_REGISTRY = 'ghcr.io/kok-dev';
