import { describe, expect, it } from 'vitest';
import { buildNodeMetadataScript, describeNodeMetadata, parseNodeMetadata, planNodeMetadata, type LiveNodeMetadata } from '../../../cluster/node-metadata.js';
import { inventory } from './helpers.js';

const inv = inventory();
const agent = inv.nodes[1]!; // labels revue/zone=a, disk=ssd; taint dedicated=db:NoSchedule
const plain = inv.nodes[2]!;

const live = (over: Partial<LiveNodeMetadata> = {}): LiveNodeMetadata => ({
  name: 'pi-2',
  labels: { 'kubernetes.io/hostname': 'pi-2', disk: 'ssd', 'revue/zone': 'a' },
  annotations: { 'revue-pi.io/labels': 'disk,revue/zone', 'revue-pi.io/taints': 'dedicated:NoSchedule' },
  taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }],
  ...over,
});

describe('planNodeMetadata', () => {
  it('a converged node: nothing (no round trip)', () => {
    expect(planNodeMetadata(agent, live())).toBeUndefined();
    expect(planNodeMetadata(plain, { name: 'pi-3', labels: { 'kubernetes.io/hostname': 'pi-3' }, annotations: {}, taints: [] })).toBeUndefined();
  });

  it('just registered (labels from config.yaml, no record yet): only the record is written', () => {
    const plan = planNodeMetadata(agent, live({ annotations: {} }))!;
    expect(plan).toEqual({
      node: 'pi-2',
      setLabels: [],
      removeLabels: [],
      addTaints: [],
      removeTaints: [],
      record: { labels: 'disk,revue/zone', taints: 'dedicated:NoSchedule' },
    });
    expect(describeNodeMetadata(plan)).toEqual([]);
  });

  it('changed and removed in the inventory: set, overwrite and remove only what revue-pi set; others are left alone', () => {
    const node = { ...agent, labels: { disk: 'nvme' }, taints: ['dedicated=web:NoSchedule'] };
    const found = live({
      labels: { ...live().labels, team: 'ops' },
      taints: [...live().taints, { key: 'other', effect: 'NoExecute' }],
      annotations: { 'revue-pi.io/labels': 'disk,revue/zone,gone', 'revue-pi.io/taints': 'dedicated:NoSchedule,old:PreferNoSchedule' },
    });
    const plan = planNodeMetadata(node, found)!;
    expect(plan).toEqual({
      node: 'pi-2',
      setLabels: ['disk=nvme'],
      removeLabels: ['revue/zone'],
      addTaints: ['dedicated=web:NoSchedule'],
      removeTaints: [],
      record: { labels: 'disk', taints: 'dedicated:NoSchedule' },
    });
    expect(describeNodeMetadata(plan)).toEqual([
      'set label disk=nvme through the API (no restart)',
      'remove label revue/zone (set by revue-pi, no longer in the inventory)',
      'set taint dedicated=web:NoSchedule through the API (no restart)',
    ]);
    const untaint = planNodeMetadata({ ...agent, taints: [] }, live())!;
    expect([untaint.removeTaints, untaint.record]).toEqual([['dedicated:NoSchedule'], { labels: 'disk,revue/zone', taints: '' }]);
  });
});

describe('buildNodeMetadataScript', () => {
  it('one script, each value quoted: label, taint, annotate', () => {
    const plan = planNodeMetadata({ ...agent, labels: { disk: 'nvme' }, taints: [] }, live())!;
    expect(buildNodeMetadataScript([plan]).text).toBe(
      [
        'set -e',
        'k3s kubectl label node pi-2 disk=nvme revue/zone- --overwrite',
        'k3s kubectl taint node pi-2 dedicated:NoSchedule- --overwrite',
        'k3s kubectl annotate node pi-2 revue-pi.io/labels=disk revue-pi.io/taints= --overwrite',
        '',
      ].join('\n'),
    );
  });
});

describe('parseNodeMetadata', () => {
  it('reads labels, annotations and taints of kubectl get nodes -o json', () => {
    const json = JSON.stringify({
      items: [
        { metadata: { name: 'a', labels: { x: '1' }, annotations: { y: '2' } }, spec: { taints: [{ key: 'k', effect: 'NoSchedule' }] } },
        { metadata: { name: 'b' } },
      ],
    });
    expect(parseNodeMetadata(json)).toEqual([
      { name: 'a', labels: { x: '1' }, annotations: { y: '2' }, taints: [{ key: 'k', effect: 'NoSchedule' }] },
      { name: 'b', labels: {}, annotations: {}, taints: [] },
    ]);
  });

  it('refuses a node list whose taint lacks its effect, naming the command, the node and the field', () => {
    const json = JSON.stringify({ items: [{ kind: 'Node', metadata: { name: 'pi-3' }, spec: { taints: [{ key: 'k' }] } }] });
    expect(() => parseNodeMetadata(json)).toThrow(/k3s kubectl get nodes -o json.*pi-3.*spec\.taints\[0\]\.effect/);
  });
});
