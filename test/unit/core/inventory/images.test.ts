import { describe, expect, it } from 'vitest';
import { RevuePiError } from '../../../../core/errors.js';
import {
  CHARTS,
  DEFAULT_REVUE_VERSION,
  IMAGE_REPOSITORIES,
  PIN_EVIDENCE,
  hasPinnedTag,
  imageRepository,
  resolveImages,
} from '../../../../core/inventory/images.js';

describe('resolveImages', () => {
  it('pins every image, Revue at the default release', () => {
    const images = resolveImages({ images: {} });
    expect(Object.keys(images).sort()).toEqual(Object.keys(IMAGE_REPOSITORIES).sort());
    expect(images['revue-auth']).toBe('letsdothisshared/revue-auth:3.1.14');
    expect(images.mongo).toBe('mongo:7.0.14');
    expect(images['metallb-speaker']).toBe('quay.io/metallb/speaker:v0.16.1');
    for (const ref of Object.values(images)) expect(hasPinnedTag(ref), ref).toBe(true);
  });

  it('takes the Revue release from revueVersion, with or without a leading v', () => {
    expect(resolveImages({ images: {}, revueVersion: 'v3.2.0' })['revue-frontend']).toBe('letsdothisshared/revue-frontend:3.2.0');
    expect(resolveImages({ images: {}, revueVersion: '3.0.1' })['revue-user']).toBe('letsdothisshared/revue-user:3.0.1');
  });

  it('lets a per-image override win over revueVersion', () => {
    const images = resolveImages({ images: { 'revue-auth': 'mirror.lan/revue-auth:dev-1' }, revueVersion: '3.2.0' });
    expect(images['revue-auth']).toBe('mirror.lan/revue-auth:dev-1');
    expect(images['revue-user']).toBe('letsdothisshared/revue-user:3.2.0');
  });

  it.each([
    [{ redis: 'redis:7' }, /workloads\.images\.redis names no image/],
    [{ mongo: 'mongo' }, /workloads\.images\.mongo \(mongo\) must name a fixed tag/],
    [{ mongo: 'mongo:latest' }, /workloads\.images\.mongo \(mongo:latest\) must name a fixed tag/],
    [{ 'kafka-ui': 'registry.lan:5000/kafka-ui' }, /must name a fixed tag/],
  ])('refuses %j with a sentence naming the inventory field', (images, message) => {
    let error: unknown;
    try {
      resolveImages({ images });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(RevuePiError);
    expect((error as RevuePiError).message).toMatch(message);
    expect((error as RevuePiError).hint).toBeTruthy();
  });
});

describe('image references', () => {
  it.each([
    ['mongo:7.0.14', true, 'mongo'],
    ['mongo', false, 'mongo'],
    ['mongo:latest', false, 'mongo'],
    ['registry.lan:5000/team/app', false, 'registry.lan:5000/team/app'],
    ['registry.lan:5000/team/app:1.2', true, 'registry.lan:5000/team/app'],
    [`app@sha256:${'0'.repeat(64)}`, true, 'app'],
  ])('%s: pinned %s, repository %s', (ref, pinned, repo) => {
    expect(hasPinnedTag(ref)).toBe(pinned);
    expect(imageRepository(ref)).toBe(repo);
  });
});

describe('PIN_EVIDENCE: where every pin was verified', () => {
  const images = resolveImages({ images: {} });
  const pins: [string, string][] = [
    ...Object.entries(images)
      .filter(([key]) => !key.startsWith('revue-'))
      .map(([key, ref]): [string, string] => [key, ref.slice(imageRepository(ref).length + 1)]),
    ['revue', DEFAULT_REVUE_VERSION],
    ...Object.entries(CHARTS).map(([key, c]): [string, string] => [key, c.version]),
  ];

  it('has an entry for every pinned image and chart, and none for anything else', () => {
    expect(Object.keys(PIN_EVIDENCE).sort()).toEqual(pins.map(([key]) => key).sort());
  });

  it.each(pins)('%s (%s): the evidence names the pinned version, or says it was not verified', (key, version) => {
    const evidence = PIN_EVIDENCE[key as keyof typeof PIN_EVIDENCE];
    expect(evidence.arm64.length).toBeGreaterThan(0);
    if (evidence.exists.length === 0) expect(evidence.unverified, `${key} has no source and does not say so`).toBeTruthy();
    // Moving a pin without re-checking it fails here: some source must mention the new version.
    else
      expect(
        evidence.exists.some((e) => e.includes(version)),
        `${key}: no source mentions ${version}`,
      ).toBe(true);
  });
});
