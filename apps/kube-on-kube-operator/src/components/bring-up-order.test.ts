import { CLUSTER_COMPONENTS, CONTROL_PLANE_ORDER, NODE_TIER_ORDER } from '@kok/api';
import { describe, expect, it } from 'vitest';
import { controlPlaneComponents, nodeTierComponents } from './bring-up-order.ts';

// The order and the gates are published in @kok/api, where `kubectl kok cluster plan` reads them:
// what the operator runs must be that order, with those dependencies and conditions.
describe('bring-up order', () => {
  it('is the order @kok/api publishes', () => {
    expect(controlPlaneComponents.map((c) => c.name)).toEqual(CONTROL_PLANE_ORDER);
    expect(nodeTierComponents.map((c) => c.name)).toEqual(NODE_TIER_ORDER);
  });

  it('gives each component the dependencies and gate @kok/api publishes', () => {
    for (const c of [...controlPlaneComponents, ...nodeTierComponents]) {
      const published = CLUSTER_COMPONENTS[c.name];
      expect({ dependsOn: c.dependsOn, condition: c.condition }, c.name).toEqual({
        dependsOn: published.dependsOn,
        condition: 'condition' in published ? published.condition : undefined,
      });
    }
  });
});
