import { Command, InvalidArgumentError, Option, type CommanderError } from 'commander';
import { collectNodeNames } from './consent.js';
import { addFlashCommand } from './flash/cli.js';
import { HELP, helpAfter } from './ui/help.js';
import { DEFAULT_AGENT_BATCH, DEFAULT_DRAIN_TIMEOUT_SECONDS, type CommonOptions } from './options.js';

/**
 * The router: option parsing only. Each command's module is imported when it runs, so `--help`
 * loads almost nothing.
 */

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256) throw new InvalidArgumentError('must be a whole number from 1 to 256.');
  return n;
}

function countOption(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000) throw new InvalidArgumentError('must be a whole number from 1 to 10000.');
  return n;
}

function withCommon(cmd: Command): Command {
  return cmd
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('--json', 'print one machine-readable report on stdout instead of progress')
    .option('--verbose', 'show every step as it runs')
    .option('--concurrency <n>', 'nodes worked on at the same time (default: all, at most 64)', positiveInt)
    .option('--strict', 'turn warnings about node facts (e.g. not aarch64) into errors')
    .option(
      '--state-dir <dir>',
      'per-cluster state directory for logs, token and secrets (default: $REVUE_PI_STATE_DIR/<cluster>, else $XDG_STATE_HOME/revue-pi/<cluster>, else ~/.local/state/revue-pi/<cluster>)',
    );
}

export function buildCli(setExitCode: (code: number) => void): Command {
  const program = new Command('revue-pi')
    // The same width on every terminal (and in the snapshot test): help is read, not squeezed.
    .configureHelp({ helpWidth: 100 })
    .description(HELP.root.summary)
    .version(process.env.REVUE_PI_VERSION ?? '0.0.0', '-V, --version')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `${helpAfter(HELP.root)}

Exit codes:
  0  all nodes are as the inventory says
  1  at least one node failed (the others were completed; run again to finish it)
  2  bad input (inventory or options); nothing was contacted

Each command's --help has its own examples and files, e.g. revue-pi up --help.`,
    );
  const teach = (cmd: Command, help: (typeof HELP)[keyof typeof HELP]) => cmd.description(help.summary).addHelpText('after', helpAfter(help));

  teach(withCommon(program.command('up')), HELP.up)
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal); never deletes data or a node by itself')
    .option('--prune-data', 'also delete what holds data (volume claims, namespaces, charts with volumes) that the inventory no longer deploys')
    .option(
      '--replace-node <name>',
      'node <name> was wiped or re-imaged: delete its old Node and etcd member or node-password secret (on a live server) so it can join again; repeat or comma-separate for several',
      collectNodeNames,
    )
    // The name before --replace-node covered rebuilt servers only; kept, unlisted, for scripts that use it.
    .addOption(new Option('--replace-server <name>').hideHelp().argParser(collectNodeNames))
    .option('--kubeconfig <file>', "merge the cluster's kubeconfig here (default: first path of $KUBECONFIG, else ~/.kube/config)")
    .option('--force', "go ahead even when the workloads' minimum requests do not fit the cluster, or a MetalLB address lies outside every node's subnet")
    .option('--reapply', 're-apply every workload even when the cluster matches the last apply (restores objects edited by hand)')
    .action(
      async (
        opts: CommonOptions & {
          force?: boolean;
          reapply?: boolean;
          kubeconfig?: string;
          pruneData?: boolean;
          replaceNode?: string[];
          replaceServer?: string[];
        },
      ) => {
        const { runUpCommand } = await import('./commands/up.js');
        const { replaceServer, ...rest } = opts;
        const replaceNode = [...(opts.replaceNode ?? []), ...(replaceServer ?? [])];
        setExitCode(await runUpCommand('up', { ...rest, ...(replaceNode.length > 0 ? { replaceNode } : {}) }));
      },
    );

  teach(withCommon(program.command('plan')), HELP.plan)
    .option('--offline', 'make no connection: assume every node is fresh from Raspberry Pi Imager')
    .option('--kubeconfig <file>', 'the kubeconfig `up` would merge into (default: first path of $KUBECONFIG, else ~/.kube/config)')
    .action(async (opts: CommonOptions & { offline?: boolean; kubeconfig?: string }) => {
      const { runUpCommand } = await import('./commands/up.js');
      setExitCode(await runUpCommand('plan', opts));
    });

  teach(program.command('status'), HELP.status)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('--json', 'print the status as one JSON object (shape in the README) instead of tables')
    .option('--state-dir <dir>', 'per-cluster state directory (where the run log goes)')
    .option(
      '--kubeconfig <file>',
      "read the cluster through this kubeconfig's context for the cluster when a local kubectl reaches the API (default: first path of $KUBECONFIG, else ~/.kube/config); otherwise over SSH",
    )
    .action(async (opts: { inventory: string; json?: boolean; stateDir?: string; kubeconfig?: string }) => {
      const { runStatusCommand } = await import('./commands/status.js');
      setExitCode(await runStatusCommand(opts));
    });

  teach(program.command('init'), HELP.init)
    .option('-o, --output <file>', 'inventory file to write', 'inventory.yaml')
    .option('--defaults', 'write the commented example inventory to edit by hand, without asking anything')
    .option('--force', 'replace an existing file without asking')
    .action(async (opts: { output: string; defaults?: boolean; force?: boolean }) => {
      const { runInitCommand } = await import('./commands/init.js');
      setExitCode(await runInitCommand(opts));
    });

  teach(program.command('kubeconfig'), HELP.kubeconfig)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('--write', 'merge it into the kubeconfig file instead of printing it')
    .option('--kubeconfig <file>', 'the kubeconfig file to merge into (implies --write; default: first path of $KUBECONFIG, else ~/.kube/config)')
    .option('--state-dir <dir>', 'per-cluster state directory')
    .action(async (opts: { inventory: string; write?: boolean; kubeconfig?: string; stateDir?: string }) => {
      const { runKubeconfigCommand } = await import('./commands/kubeconfig.js');
      setExitCode(await runKubeconfigCommand(opts));
    });

  teach(program.command('render'), HELP.render)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .requiredOption('-o, --output <dir>', 'folder to write the manifests into')
    .option('--include-secrets', 'also write the generated Secrets (secrets.yaml, mode 0600)')
    .option('--state-dir <dir>', 'per-cluster state directory (where the generated secrets are kept)')
    .action(async (opts: { inventory: string; output: string; includeSecrets?: boolean; stateDir?: string }) => {
      const { runRenderCommand } = await import('./commands/render.js');
      setExitCode(await runRenderCommand(opts));
    });

  teach(program.command('backup'), HELP.backup)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('--list', 'list the backups revue-pi made (no node is contacted)')
    .option('--keep <n>', 'how many of its backups revue-pi keeps, here and on the server (older ones are deleted)', countOption, 5)
    .option('--dry-run', 'probe the servers and print what backup would do; change nothing')
    .option('--json', 'print one JSON object on stdout')
    .option('--state-dir <dir>', 'per-cluster state directory (where backups/ is)')
    .action(async (opts: { inventory: string; list?: boolean; keep: number; dryRun?: boolean; json?: boolean; stateDir?: string }) => {
      const { runBackupCommand } = await import('./commands/backup.js');
      setExitCode(await runBackupCommand(opts));
    });

  teach(program.command('remove-node'), HELP['remove-node'])
    .argument('<name>', 'the node to remove (found in the cluster; it need not be in the inventory any more)')
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .option('--dry-run', 'read the cluster and print the plan; change nothing')
    .option(
      '--drain-timeout <seconds>',
      'how long the drain may wait for pods to be evicted (PodDisruptionBudgets)',
      countOption,
      DEFAULT_DRAIN_TIMEOUT_SECONDS,
    )
    .option('--json', 'print one JSON object on stdout')
    .option('--state-dir <dir>', 'per-cluster state directory')
    .option('--kubeconfig <file>', 'the kubeconfig to re-point when it names the removed server (default: first path of $KUBECONFIG, else ~/.kube/config)')
    .action(
      async (
        name: string,
        opts: { inventory: string; yes?: boolean; dryRun?: boolean; drainTimeout: number; json?: boolean; stateDir?: string; kubeconfig?: string },
      ) => {
        const { runRemoveNodeCommand } = await import('./commands/remove-node.js');
        setExitCode(await runRemoveNodeCommand({ ...opts, name }));
      },
    );

  teach(program.command('upgrade'), HELP.upgrade)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('--to <version>', "the K3s release to upgrade to, e.g. v1.36.4+k3s1 (default: the inventory's k3s.version)")
    .option('-y, --yes', 'do not ask (needed without a terminal)')
    .option('--dry-run', 'read the cluster and print the plan; change nothing')
    .option(
      '--drain-timeout <seconds>',
      'how long each drain may wait for pods to be evicted (PodDisruptionBudgets)',
      countOption,
      DEFAULT_DRAIN_TIMEOUT_SECONDS,
    )
    .option('--agent-batch <n>', 'agents upgraded at the same time', positiveInt, DEFAULT_AGENT_BATCH)
    .option('--json', 'print one JSON object on stdout')
    .option('--state-dir <dir>', 'per-cluster state directory (where the backup goes)')
    .option('--kubeconfig <file>', "merge the cluster's kubeconfig here at the end (default: first path of $KUBECONFIG, else ~/.kube/config)")
    .action(
      async (opts: {
        inventory: string;
        to?: string;
        yes?: boolean;
        dryRun?: boolean;
        drainTimeout: number;
        agentBatch: number;
        json?: boolean;
        stateDir?: string;
        kubeconfig?: string;
      }) => {
        const { runUpgradeCommand } = await import('./commands/upgrade.js');
        setExitCode(await runUpgradeCommand(opts));
      },
    );

  teach(program.command('reset'), HELP.reset)
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('-y, --yes [cluster-name]', "reset without asking: needs the cluster's name (cluster.name in the inventory); --yes alone is refused")
    .option('--boot', 'also take the cgroup flags and the kernel line revue-pi added out of the boot config (takes effect at the next reboot)')
    .option('--dry-run', 'probe the nodes and print the plan; change nothing')
    .option('--json', 'print one JSON object on stdout')
    .option('--concurrency <n>', 'agents reset at the same time', positiveInt, 10)
    .option('--state-dir <dir>', 'per-cluster state directory (its backups/ are kept)')
    .option('--kubeconfig <file>', "the kubeconfig to remove the cluster's context from (default: first path of $KUBECONFIG, else ~/.kube/config)")
    .action(
      async (opts: {
        inventory: string;
        yes?: boolean | string;
        boot?: boolean;
        dryRun?: boolean;
        json?: boolean;
        concurrency: number;
        stateDir?: string;
        kubeconfig?: string;
      }) => {
        const { runResetCommand } = await import('./commands/reset.js');
        setExitCode(await runResetCommand(opts));
      },
    );

  teach(program.command('restore'), HELP.restore)
    .argument('<snapshot>', 'a backup as revue-pi backup --list names it (or the path of its folder)')
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .option('-y, --yes', 'do not ask for the cluster name (needed without a terminal)')
    .option('--dry-run', 'probe the nodes and print the plan; change nothing')
    .option('--json', 'print one JSON object on stdout')
    .option('--state-dir <dir>', 'per-cluster state directory (where backups/ is)')
    .action(async (snapshot: string, opts: { inventory: string; yes?: boolean; dryRun?: boolean; json?: boolean; stateDir?: string }) => {
      const { runRestoreCommand } = await import('./commands/restore.js');
      setExitCode(await runRestoreCommand({ ...opts, snapshot }));
    });

  teach(addFlashCommand(program, setExitCode), HELP.flash);

  return program;
}

/**
 * Makes commander throw its parse errors (and help/version) as CommanderError instead of exiting with 1, on the
 * program and on every subcommand (a subcommand takes the setting only when it is made after it, so it is set on
 * each here). main.ts turns them into exit code 2.
 */
export function treatParseErrorsAsExceptions(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) treatParseErrorsAsExceptions(sub);
}

/**
 * A parse error as the one JSON object `--json` promises on stdout (the shape of a bad inventory's: ok, exitCode,
 * error). `args` are the command line's arguments, to name the command in the hint.
 */
export function optionErrorJson(error: CommanderError, program: Command, args: readonly string[]): string {
  const message = error.message.replace(/^error: /, '');
  const command = program.commands.find((c) => args.includes(c.name()))?.name();
  const hint = `see revue-pi ${command ? `${command} ` : ''}--help`;
  return JSON.stringify({ ok: false, exitCode: 2, error: { code: error.code, message, hint } }, null, 2) + '\n';
}
