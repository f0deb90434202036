import { describe, expect, it } from 'vitest';
import { buildLabelNodesCommand, parseNodeLabels, planNodeLabels } from '../../../workloads/label-plan.js';

/** workloads/label-plan.ts: the ARMv8.2 node labels planned from the node list, set in one round trip. */

describe('node labels', () => {
  const live = parseNodeLabels(
    JSON.stringify({
      items: [
        { metadata: { name: 'pi-1', labels: { 'revue-pi.io/armv82': 'true' } } },
        { metadata: { name: 'pi-2', labels: { 'revue-pi.io/armv82': 'true' } } },
        { metadata: { name: 'pi-3' } },
      ],
    }),
  );

  it('plans only what differs and names nodes not in the cluster', () => {
    expect(
      planNodeLabels(
        [
          { node: 'pi-1', labels: { 'revue-pi.io/armv82': 'true' } },
          { node: 'pi-2', labels: { 'revue-pi.io/armv82': 'false' } },
          { node: 'pi-3', labels: { 'revue-pi.io/armv82': 'true' } },
          { node: 'pi-9', labels: { 'revue-pi.io/armv82': 'true' } },
        ],
        live,
      ),
    ).toEqual({
      changes: [
        { node: 'pi-2', key: 'revue-pi.io/armv82', value: 'false', from: 'true' },
        { node: 'pi-3', key: 'revue-pi.io/armv82', value: 'true' },
      ],
      missing: ['pi-9'],
    });
  });

  it('labels every node in one round trip: one kubectl per distinct key=value, with --overwrite, stopping at a failure', () => {
    const key = 'revue-pi.io/armv82';
    expect(buildLabelNodesCommand([{ node: 'pi-2', key, value: 'false' }]).text).toBe('k3s kubectl label node pi-2 revue-pi.io/armv82=false --overwrite');
    expect(
      buildLabelNodesCommand([
        { node: 'pi-1', key, value: 'true' },
        { node: 'pi-3', key, value: 'false' },
        { node: 'pi-2', key, value: 'true', from: 'false' },
      ]).text,
    ).toBe('k3s kubectl label node pi-1 pi-2 revue-pi.io/armv82=true --overwrite &&\nk3s kubectl label node pi-3 revue-pi.io/armv82=false --overwrite');
  });
});
