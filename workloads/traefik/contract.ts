/**
 * What the pinned K3s release bundles, and the Traefik chart that workloads/traefik/helmchartconfig.yaml customises.
 * Facts about upstream, each with where it was read. K3s's own source could not be fetched here (its snapshot is over
 * the size limit), so the bundled chart's version is inferred, and says so.
 */

export interface Sourced<T> {
  value: T;
  /** Where it was read (repository, path, tag; or a URL). */
  source: string;
  /** False when it was inferred rather than read at the pinned tag. */
  verified: boolean;
}

export const K3S_RELEASE = {
  version: {
    value: 'v1.36.4+k3s1',
    source:
      'https://github.com/k3s-io/k3s/releases/tag/v1.36.4%2Bk3s1 (not a pre-release); K3s made it its stable channel in k3s-io/k3s#14553 (2026-08-27); the newest release found here (v1.37.0 was still at rc4 in k3s-io/k3s#14605, 2026-09-11)',
    verified: true,
  },
  traefik: {
    value: 'v3.7.8',
    source: 'release notes of v1.36.4+k3s1, "Embedded Component Versions": Traefik v3.7.8',
    verified: true,
  },
  metricsServer: {
    value: 'v0.9.0',
    source: 'release notes of v1.36.4+k3s1, "Embedded Component Versions": Metrics-server v0.9.0',
    verified: true,
  },
  helmController: {
    value: 'v0.17.7',
    source: 'release notes of v1.36.4+k3s1, "Embedded Component Versions": Helm-controller v0.17.7 (its source at that tag is what status reads Jobs by)',
    verified: true,
  },
  /** K3s's packaging (k3s-io/k3s-charts) of the upstream Traefik chart; `static/charts/traefik-<this>.tgz` in K3s. */
  traefikChart: {
    value: '40.1.4+up40.1.0',
    source:
      'NOT read from k3s-io/k3s manifests/traefik.yaml at v1.36.4+k3s1 (unreachable here). Inferred: the v1.36.4 notes list no Traefik change since v1.36.3 (whose notes end with "Use new Traefik v3.7.8"), and third-party reports of v1.36.3+k3s1 and v1.35.7+k3s1 clusters show chart traefik-40.1.4+up40.1.0. k3s-io/k3s-charts as stored here ends at 39.0.701+up39.0.7 (2026-04-13)',
    verified: false,
  },
} as const satisfies Record<string, Sourced<string>>;

/**
 * The upstream chart K3s's package is built from, whose values.schema.json the HelmChartConfig is checked against
 * (test/schemas/traefik/values.schema.json, vendored byte for byte). K3s's package drops that schema
 * (k3s-io/k3s-charts packages/traefik/generated-changes/exclude/values.schema.json), so Helm on the cluster does not
 * check our values: the test is the only check.
 */
export const TRAEFIK_CHART = {
  version: 'v40.1.0',
  repository: 'traefik/traefik-helm-chart',
  commit: 'cb6cedfce0ae38aba44e1bc649906df0deb01cc4',
  schemaPath: 'traefik/values.schema.json',
  schemaSha256: '3af8b533288a1ec53f40a218eb42dd69eefbae6c58eaf93cc0e448755469b268',
} as const;
