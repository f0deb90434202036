/*
 * revue-pi LAB STAND-IN — cordon, eviction and `kubectl drain` of the stand-in k3s (k8s.io/kubectl/pkg/drain). NOT kubectl.
 *
 * Assembled by server.ts before k3s.cjs, in the same scope (its helpers are used only when called). The server side
 * (cordonNodes, evictPod) runs in kubectl() on the store's leader; `drain` itself runs in the client, as kubectl does,
 * one API call at a time: cordon, list the node's pods, evict each (retrying every 5 s while a PodDisruptionBudget
 * refuses) until --timeout. See README.md, "Day-two contract".
 */
'use strict';
const EVICTION_RETRY_MS = 5000;
const PDB_REFUSAL = "Cannot evict pod as it would violate the pod's disruption budget.";

/** `kubectl cordon|uncordon NAME…`: spec.unschedulable. Returns the exit code. */
function cordonNodes(store, verb, names, out, err) {
  if (names.length === 0) {
    err.push(`error: resource(s) were provided, but no name was specified\n`);
    return 1;
  }
  let code = 0;
  for (const name of names) {
    const n = store.data.nodes[name];
    if (!n) {
      err.push(`Error from server (NotFound): nodes "${name}" not found\n`);
      code = 1;
      continue;
    }
    const want = verb === 'cordon';
    out.push(`node/${name} ${!!n.unschedulable === want ? 'already ' : ''}${verb}ed\n`);
    n.unschedulable = want;
  }
  return code;
}

const podReady = (p) => !p.metadata.deletionTimestamp && (((p.status || {}).conditions || []).find((c) => c.type === 'Ready') || {}).status === 'True';
const selects = (selector, labels) => Object.entries((selector || {}).matchLabels || {}).every(([k, v]) => (labels || {})[k] === v);
/** An int, or "N%" of `of` (minAvailable rounds up, like the disruption controller's GetScaledValueFromIntOrPercent). */
const scaled = (v, of) => (typeof v === 'string' && v.endsWith('%') ? Math.ceil((Number(v.slice(0, -1)) * of) / 100) : Number(v));

/**
 * The eviction subresource: refused (429) while a PodDisruptionBudget selecting the pod allows no disruption —
 * healthy pods minus minAvailable, or maxUnavailable minus the unhealthy ones (expected = the pods it selects; the
 * stand-in has no controllers to ask for a scale). Allowed: the pod is deleted at once (no kubelet to wait for).
 */
function evictPod(store, ns, name) {
  const podType = BUILTIN_TYPES.find((t) => t.kind === 'Pod');
  const pod = store.data.objects[store.key(podType, ns, name)];
  if (!pod) return { status: 404, message: `pods "${name}" not found` };
  const pods = Object.values(store.data.objects).filter((o) => o.kind === 'Pod' && o.metadata.namespace === ns);
  for (const pdb of Object.values(store.data.objects).filter((o) => o.kind === 'PodDisruptionBudget' && o.metadata.namespace === ns)) {
    const spec = pdb.spec || {};
    if (!spec.selector || !selects(spec.selector, pod.metadata.labels)) continue;
    const selected = pods.filter((p) => selects(spec.selector, p.metadata.labels));
    const healthy = selected.filter(podReady).length;
    const desired =
      spec.minAvailable !== undefined
        ? scaled(spec.minAvailable, selected.length)
        : spec.maxUnavailable !== undefined
          ? selected.length - scaled(spec.maxUnavailable, selected.length)
          : 0;
    if (healthy - desired <= 0 && podReady(pod)) {
      return {
        status: 429,
        message: PDB_REFUSAL,
        cause: `The disruption budget ${pdb.metadata.name} needs ${desired} healthy pods and has ${healthy} currently`,
      };
    }
  }
  store.remove(podType, ns, name);
  return { status: 201 };
}

/** A Go duration as kubectl takes it ("90s", "2m", "1m30s", "0"); undefined when it is not one. */
function parseGoDuration(text) {
  if (text === '0') return 0;
  const unit = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
  let ms = 0;
  let rest = String(text);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|h|m|s)/.exec(rest);
    if (!m) return undefined;
    ms += Number(m[1]) * unit[m[2]];
    rest = rest.slice(m[0].length);
  }
  return ms;
}
/** time.Duration.String() for whole seconds: 6s, 2m0s, 1h0m0s. */
function formatGoDuration(ms) {
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h ? `${h}h${m}m${s % 60}s` : m ? `${m}m${s % 60}s` : `${s}s`;
}

/**
 * `kubectl drain NODE [--ignore-daemonsets] [--delete-emptydir-data] [--force] [--timeout=D]`, run by the client:
 * `send(args)` is one stand-in kubectl call ({code, stdout, stderr, status}). Returns the exit code.
 */
async function drainClient(send, argv) {
  const o = { ignoreDaemonsets: false, deleteEmptyDir: false, force: false, timeoutMs: 0 };
  const names = [];
  const bool = (inline) => inline === undefined || inline === 'true';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (flag === '--ignore-daemonsets') o.ignoreDaemonsets = bool(inline);
    else if (flag === '--delete-emptydir-data' || flag === '--delete-local-data') o.deleteEmptyDir = bool(inline);
    else if (flag === '--force') o.force = bool(inline);
    else if (flag === '--timeout') {
      const d = parseGoDuration(inline !== undefined ? inline : argv[++i]);
      if (d === undefined) {
        process.stderr.write(`error: invalid argument "${inline !== undefined ? inline : argv[i]}" for "--timeout" flag: time: invalid duration\n`);
        return 1;
      }
      o.timeoutMs = d;
    } else if (['--grace-period', '--pod-selector', '--skip-wait-for-delete-timeout', '--selector', '-l'].includes(flag)) {
      if (inline === undefined) i++;
    } else if (!flag.startsWith('-')) names.push(a);
  }
  if (names.length !== 1) {
    process.stderr.write(`error: ${STANDIN}: drain takes exactly one node name\n`);
    return 1;
  }
  const node = names[0];
  const cordon = await send(['cordon', node]);
  process.stdout.write(cordon.stdout);
  process.stderr.write(cordon.stderr);
  if (cordon.code !== 0) return cordon.code;

  const listed = await send(['get', 'pods', '-A', '-o', 'json']);
  if (listed.code !== 0) {
    process.stderr.write(listed.stderr);
    return listed.code;
  }
  const pods = JSON.parse(listed.stdout).items.filter((p) => p.spec && p.spec.nodeName === node);
  const id = (p) => `${p.metadata.namespace}/${p.metadata.name}`;
  const fatal = new Map();
  const warn = new Map();
  const add = (map, key, p) => map.set(key, [...(map.get(key) || []), id(p)]);
  const deletable = [];
  for (const p of pods) {
    const annotations = p.metadata.annotations || {};
    if (annotations['kubernetes.io/config.mirror']) continue;
    const done = p.status && ['Succeeded', 'Failed'].includes(p.status.phase);
    const controller = (p.metadata.ownerReferences || []).find((r) => r.controller);
    if (!done && controller && controller.kind === 'DaemonSet') {
      if (o.ignoreDaemonsets) add(warn, 'ignoring DaemonSet-managed Pods', p);
      else add(fatal, 'DaemonSet-managed Pods (use --ignore-daemonsets to ignore)', p);
      continue;
    }
    if (!done && !controller) {
      if (!o.force) {
        add(fatal, 'Pods declare no controller (use --force to override)', p);
        continue;
      }
      add(warn, 'deleting Pods that declare no controller', p);
    }
    if (!done && (p.spec.volumes || []).some((v) => v.emptyDir) && !o.deleteEmptyDir) {
      add(fatal, 'Pods with local storage (use --delete-emptydir-data to override)', p);
      continue;
    }
    deletable.push(p);
  }
  const pending = (text) =>
    process.stderr.write(
      `error: unable to drain node "${node}" due to error: ${text}, continuing command...\nThere are pending nodes to be drained:\n ${node}\n${text}\n`,
    );
  if (fatal.size > 0) {
    pending([...fatal].map(([what, list]) => `cannot delete ${what}: ${list.join(', ')}`).join(', '));
    return 1;
  }
  for (const [what, list] of warn) process.stderr.write(`Warning: ${what}: ${list.join(', ')}\n`);

  const deadline = o.timeoutMs > 0 ? Date.now() + o.timeoutMs : Infinity;
  const errors = (
    await Promise.all(
      deletable.map(async (p) => {
        const { namespace: ns, name } = p.metadata;
        for (;;) {
          process.stdout.write(`evicting pod ${ns}/${name}\n`);
          if (Date.now() >= deadline) return `error when evicting pods/"${name}" -n "${ns}": global timeout reached: ${formatGoDuration(o.timeoutMs)}`;
          const r = await send(['__eviction', '-n', ns, name]);
          if (r.status === 201) {
            process.stdout.write(`pod/${name} evicted\n`);
            return undefined;
          }
          if (r.status === 404) return undefined;
          if (r.status !== 429) return `error when evicting pods/"${name}" -n "${ns}": ${r.stderr.trim()}`;
          process.stderr.write(`error when evicting pods/"${name}" -n "${ns}" (will retry after 5s): ${r.stderr.trim()}\n`);
          await sleep(EVICTION_RETRY_MS);
        }
      }),
    )
  ).filter(Boolean);
  if (errors.length > 0) {
    pending(errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`);
    return 1;
  }
  process.stdout.write(`node/${node} drained\n`);
  return 0;
}
