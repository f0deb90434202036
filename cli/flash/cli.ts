import { Option, type Command } from 'commander';
import type { FlashCommandOptions } from '../commands/flash.js';

/**
 * The `flash` command's options, for the router (cli/program.ts):
 *   addFlashCommand(program, setExitCode)
 * The command module is imported only when flash runs, like the other commands.
 */

export type FlashRunner = (opts: FlashCommandOptions) => Promise<number>;

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function addFlashCommand(program: Command, setExitCode: (code: number) => void, run?: FlashRunner): Command {
  return program
    .command('flash')
    .description(
      "write one node's first-boot config into a freshly written SD card's boot partition (mounted on this computer): " +
        'hostname, user with your SSH key, sudo, no password login, network, cgroup flags and 4K kernel — so `up` needs no reboot. Contacts no Pi.',
    )
    .requiredOption('--boot <dir>', 'folder where the boot partition (bootfs) is mounted, e.g. /media/$USER/bootfs')
    .requiredOption('--node <name>', 'the node in the inventory this card is for')
    .option('-i, --inventory <file>', 'inventory file', './inventory.yaml')
    .addOption(
      new Option('--image <generation>', 'Raspberry Pi OS generation on the card (auto: detected from the partition)')
        .choices(['bookworm', 'trixie', 'auto'])
        .default('auto'),
    )
    .option('--ssh-key <file.pub>', 'public key to authorise (default: the inventory ssh.keyPath + .pub, else ~/.ssh/id_ed25519.pub, id_ecdsa.pub, id_rsa.pub)')
    .option('--address <cidr>', "static address with prefix length, e.g. 192.168.1.101/24 (must be the node's host); default: DHCP")
    .option('--gateway <ip>', 'default gateway for --address')
    .option('--dns <ip>', 'DNS server for --address (repeatable or comma-separated; default: the gateway)', collect)
    .option('--dry-run', 'print what would be written, write nothing')
    .action(async (opts: FlashCommandOptions) => {
      const runner = run ?? (await import('../commands/flash.js')).runFlashCommand;
      setExitCode(await runner(opts));
    });
}
