/**
 * A lab of simulated Raspberry Pis for manual use and demos (the lab itself lives in test/lab/).
 *
 *   npx tsx scripts/lab.ts up [--nodes 3] [--subnet 127.0.10.] [--boot-delay 2000] [--sudo-password X]
 *   npx tsx scripts/lab.ts down      # stops labs started by `up` (or press Ctrl-C in that terminal)
 *
 * Needs root, openssh-server and sudo (see .ci/run).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { argv, chalk, echo } from 'zx';
import { labSupport, startLab } from '../test/lab/lab.js';

const [command = 'up'] = argv._ as string[];

if (command === 'down') {
  let stopped = 0;
  const parents = [...new Set(['/dev/shm', os.tmpdir()])].filter((d) => fs.existsSync(d));
  for (const entry of parents.flatMap((d) =>
    fs
      .readdirSync(d)
      .filter((e) => e.startsWith('revue-pi-lab-'))
      .map((e) => path.join(d, e)),
  )) {
    const marker = path.join(entry, 'lab-script.pid');
    if (!fs.existsSync(marker)) continue;
    const pid = Number(fs.readFileSync(marker, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
      stopped += 1;
      echo(`Asked lab ${entry} (pid ${pid}) to stop.`);
    } catch {
      echo(`Lab ${entry} has no running supervisor (pid ${pid} is gone).`);
    }
  }
  if (stopped === 0) echo('No running lab started by scripts/lab.ts found.');
} else if (command === 'up') {
  const support = labSupport();
  if (!support.ok) {
    echo(chalk.red(`Cannot start the lab: ${support.reason}`));
    process.exitCode = 1;
  } else {
    const count = Number(argv.nodes ?? argv.n ?? 3);
    const t0 = Date.now();
    const lab = await startLab(
      Array.from({ length: count }, (_, i) => ({
        name: `pi-${i + 1}`,
        bootDelayMs: argv['boot-delay'] === undefined ? undefined : Number(argv['boot-delay']),
        sudoPassword: argv['sudo-password'] as string | undefined,
      })),
      { subnet: (argv.subnet as string | undefined) ?? '127.0.10.' },
    );
    fs.writeFileSync(path.join(lab.rootDir, 'lab-script.pid'), String(process.pid));
    const inventory = lab.writeInventory();
    echo(chalk.green(`${count} simulated Pi(s) up in ${Date.now() - t0} ms:`));
    for (const n of lab.nodes) echo(`  ${n.name.padEnd(8)} ${n.address}:${n.port}  files: ${n.rootDir}`);
    echo(`SSH:       ssh -i ${lab.keyPath} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null ${lab.user}@${lab.nodes[0]!.address}`);
    echo(`Inventory: ${inventory}`);
    echo('Press Ctrl-C (or run `npx tsx scripts/lab.ts down`) to stop and remove the lab.');
    let stopping = false;
    const stop = async () => {
      if (stopping) return;
      stopping = true;
      const t1 = Date.now();
      await lab.stop();
      echo(`Lab stopped and removed in ${Date.now() - t1} ms.`);
      process.exit(0);
    };
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => void stop());
    setInterval(() => undefined, 1 << 30);
  }
} else {
  echo(`Unknown command "${command}". Use: up [--nodes N] [--subnet 127.0.10.] | down`);
  process.exitCode = 2;
}
