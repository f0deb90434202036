/**
 * Imports flow one way (issue 15; README "Development"). Layers from the top; a file may import its own layer and
 * the ones below it, never one above, and the three stages do not import each other:
 *
 *   cli/        the application shell: router, commands, wizard, flash and status front ends, terminal UI
 *   pipeline/   composes the stages per node, owns concurrency and the run report
 *   provision/ | cluster/ | workloads/   the stages, side by side: what two of them share (node facts, K3s's
 *               paths) lives in core/
 *   core/       what every stage shares: inventory, remote (transport, ssh, quoting, probe script), report, log…
 *
 * No source file imports test/ or scripts/, every TypeScript file lives in a layer, scripts/, test/ or the root,
 * and there is no import cycle anywhere (type-only and dynamic imports count: they tie two files together for a
 * reader just the same).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const LAYERS = ['core', 'provision', 'cluster', 'workloads', 'pipeline', 'cli'] as const;
/** The level of each layer: the three stages share one, and may not import each other. */
const LEVEL: Record<(typeof LAYERS)[number], number> = { core: 0, provision: 1, cluster: 1, workloads: 1, pipeline: 2, cli: 3 };
const FLOW = 'imports go cli → pipeline → provision | cluster | workloads → core, never back up nor across the stages';
const OUTSIDE = ['scripts', 'test'];
const ROOT = path.resolve(import.meta.dirname, '../..');

interface Edge {
  from: string;
  to: string;
  line: number;
}

const top = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '');
const rank = (file: string) => (LAYERS as readonly string[]).indexOf(top(file));

/** Why this import breaks the layering, or undefined when it is fine. */
function layerViolation(e: Edge): string | undefined {
  const from = rank(e.from);
  if (from < 0) return undefined; // scripts/ and test/ may import anything
  const to = rank(e.to);
  const where = `${e.from}:${e.line} imports ${e.to}`;
  if (to < 0) return `${where} — ${top(e.from)}/ is source code and may not import ${top(e.to) || 'the root'}/ (only test/ and scripts/ import those)`;
  const [fromLevel, toLevel] = [LEVEL[LAYERS[from]!], LEVEL[LAYERS[to]!]];
  if (toLevel > fromLevel) return `${where} — ${top(e.from)}/ may not import ${top(e.to)}/: ${FLOW}`;
  if (toLevel === fromLevel && from !== to)
    return `${where} — the stages ${top(e.from)}/ and ${top(e.to)}/ do not import each other; move what they share to core/ (${FLOW})`;
  return undefined;
}

function layerViolations(edges: Edge[]): string[] {
  return edges.flatMap((e) => layerViolation(e) ?? []);
}

/** Every cycle (one per strongly connected component), written as the path that closes it, with the import lines. */
function importCycles(edges: Edge[]): string[] {
  const out = new Map<string, Edge[]>();
  for (const e of edges) out.set(e.from, [...(out.get(e.from) ?? []), e]);
  // Tarjan's strongly connected components.
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const { to } of out.get(v) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(v, Math.min(low.get(v)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(v, Math.min(low.get(v)!, index.get(to)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (out.get(v) ?? []).some((e) => e.to === v)) components.push(component);
    }
  };
  for (const v of [...new Set(edges.flatMap((e) => [e.from, e.to]))].sort()) if (!index.has(v)) visit(v);

  return components.map((component) => {
    const members = new Set(component);
    const start = [...component].sort()[0]!;
    // Shortest way back to the start inside the component (breadth first), so the message names real imports.
    const previous = new Map<string, Edge>();
    const queue = [start];
    let closing: Edge | undefined;
    while (queue.length > 0 && !closing) {
      const v = queue.shift()!;
      for (const e of out.get(v) ?? []) {
        if (!members.has(e.to)) continue;
        if (e.to === start) {
          closing = e;
          break;
        }
        if (!previous.has(e.to)) {
          previous.set(e.to, e);
          queue.push(e.to);
        }
      }
    }
    const path: Edge[] = [closing!];
    while (path[0]!.from !== start) path.unshift(previous.get(path[0]!.from)!);
    return `cycle: ${path.map((e) => `${e.from}:${e.line} imports ${e.to}`).join(', ')}`;
  });
}

// ---- the repository's graph -----------------------------------------------------------------------------

function typeScriptFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => {
    const rel = dir === '' ? d.name : `${dir}/${d.name}`;
    if (d.isDirectory()) return ['node_modules', 'dist', '.git', 'fixtures', 'schemas'].includes(d.name) ? [] : typeScriptFiles(rel);
    return /\.(ts|mts|cts|tsx)$/.test(d.name) && !d.name.endsWith('.d.ts') ? [rel] : [];
  });
}

/** Relative imports of a file: static, type-only, re-exports, dynamic import() and import('…') types. */
function importsOf(file: string, known: Set<string>): Edge[] {
  const sf = ts.createSourceFile(file, readFileSync(path.join(ROOT, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const edges: Edge[] = [];
  const add = (node: ts.Node | undefined) => {
    if (!node || !ts.isStringLiteralLike(node) || !node.text.startsWith('.')) return;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), node.text));
    const resolved = [target, target.replace(/\.js$/, '.ts'), target.replace(/\.mjs$/, '.mts'), `${target}.ts`].find((c) => known.has(c));
    if (resolved) edges.push({ from: file, to: resolved, line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1 });
  };
  const visit = (n: ts.Node) => {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier) add(n.moduleSpecifier);
    else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword) add(n.arguments[0]);
    else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument)) add(n.argument.literal);
    ts.forEachChild(n, visit);
  };
  visit(sf);
  return edges;
}

const files = typeScriptFiles('');
const known = new Set(files);
const edges = files.flatMap((f) => importsOf(f, known));

describe('the import graph of the repository', () => {
  it('is read (sanity: the check sees the files and their imports)', () => {
    expect(files).toContain('cli/main.ts');
    expect(files).toContain('core/errors.ts');
    expect(edges.length).toBeGreaterThan(300);
  });

  it('keeps every TypeScript file in a layer, scripts/, test/ or the root', () => {
    expect(files.filter((f) => top(f) !== '' && rank(f) < 0 && !OUTSIDE.includes(top(f)))).toEqual([]);
  });

  it('imports only downwards: cli → pipeline → provision | cluster | workloads → core', () => {
    expect(layerViolations(edges)).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(importCycles(edges)).toEqual([]);
  });
});

describe('the rules themselves (a made-up graph)', () => {
  const e = (from: string, to: string, line = 1): Edge => ({ from, to, line });

  it('allow downward imports and imports within a layer', () => {
    expect(
      layerViolations([e('cli/main.ts', 'pipeline/pipeline.ts'), e('workloads/phase.ts', 'core/node-facts.ts'), e('core/log.ts', 'core/events.ts')]),
    ).toEqual([]);
    expect(layerViolations([e('test/unit/x.test.ts', 'cli/main.ts'), e('scripts/bench.ts', 'test/lab/lab.ts')])).toEqual([]);
  });

  it('name an upward import, an earlier stage reaching into a later one, and source importing tests', () => {
    expect(
      layerViolations([
        e('core/catalogue.ts', 'workloads/pins.ts', 2),
        e('cluster/facts.ts', 'workloads/render.ts', 7),
        e('workloads/phase.ts', 'provision/facts.ts', 4),
        e('core/log.ts', 'test/fakes/x.ts', 3),
      ]),
    ).toEqual([
      'core/catalogue.ts:2 imports workloads/pins.ts — core/ may not import workloads/: imports go cli → pipeline → provision | cluster | workloads → core, never back up nor across the stages',
      'cluster/facts.ts:7 imports workloads/render.ts — the stages cluster/ and workloads/ do not import each other; move what they share to core/ (imports go cli → pipeline → provision | cluster | workloads → core, never back up nor across the stages)',
      'workloads/phase.ts:4 imports provision/facts.ts — the stages workloads/ and provision/ do not import each other; move what they share to core/ (imports go cli → pipeline → provision | cluster | workloads → core, never back up nor across the stages)',
      'core/log.ts:3 imports test/fakes/x.ts — core/ is source code and may not import test/ (only test/ and scripts/ import those)',
    ]);
  });

  it('find a cycle, however long, and write it as the imports that close it', () => {
    expect(importCycles([e('a/x.ts', 'a/y.ts', 2), e('a/y.ts', 'a/z.ts', 5), e('a/z.ts', 'a/x.ts', 9), e('a/x.ts', 'b/w.ts')])).toEqual([
      'cycle: a/x.ts:2 imports a/y.ts, a/y.ts:5 imports a/z.ts, a/z.ts:9 imports a/x.ts',
    ]);
    expect(importCycles([e('a/x.ts', 'a/x.ts', 4)])).toEqual(['cycle: a/x.ts:4 imports a/x.ts']);
    expect(importCycles([e('a/x.ts', 'a/y.ts'), e('a/y.ts', 'b/z.ts')])).toEqual([]);
  });
});
