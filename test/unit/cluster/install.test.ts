import { describe, expect, it } from 'vitest';
import { airgapUploads, buildInstallCommand, buildInstallScript } from '../../../cluster/install.js';
import { inventory } from './helpers.js';

describe('buildInstallCommand', () => {
  it('pins the default version and passes the role after sh -s -', () => {
    const inv = inventory();
    expect(buildInstallCommand(inv, inv.nodes[0]!, { role: 'server' }).text).toBe(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.36.4+k3s1 sh -s - server',
    );
    expect(buildInstallCommand(inv, inv.nodes[1]!, { role: 'agent' }).text).toBe(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.36.4+k3s1 sh -s - agent',
    );
  });

  it('uses the inventory version, or the channel when no version is set', () => {
    const pinned = inventory({ k3s: { version: 'v1.32.9+k3s1' } });
    expect(buildInstallCommand(pinned, pinned.nodes[0]!, { role: 'server' }).text).toBe(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.32.9+k3s1 sh -s - server',
    );
    const channel = inventory({ k3s: { channel: 'v1.33' } });
    expect(buildInstallCommand(channel, channel.nodes[0]!, { role: 'server' }).text).toBe(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_CHANNEL=v1.33 sh -s - server',
    );
  });

  it("single-quotes values POSIX-style (dash has no $'…')", () => {
    const inv = inventory({ k3s: { installScriptUrl: "http://127.0.0.1:8080/install.sh?who=o'neil&x=1" } });
    expect(buildInstallCommand(inv, inv.nodes[0]!, { role: 'server' }).text).toBe(
      "curl -sfL 'http://127.0.0.1:8080/install.sh?who=o'\\''neil&x=1' | INSTALL_K3S_VERSION=v1.36.4+k3s1 sh -s - server",
    );
  });

  it('air-gapped: the uploaded script with INSTALL_K3S_SKIP_DOWNLOAD=true and no download', () => {
    const inv = inventory({
      k3s: { airgap: { binary: '/files/k3s-arm64', images: '/files/k3s-airgap-images-arm64.tar.zst', installScript: '/files/install.sh' } },
    });
    expect(buildInstallCommand(inv, inv.nodes[1]!, { role: 'agent' }).text).toBe(
      'INSTALL_K3S_SKIP_DOWNLOAD=true sh /usr/local/share/revue-pi/k3s-install.sh agent',
    );
    expect(airgapUploads(inv)).toEqual([
      { local: '/files/k3s-arm64', remote: '/usr/local/bin/k3s', mode: 0o755 },
      { local: '/files/k3s-airgap-images-arm64.tar.zst', remote: '/var/lib/rancher/k3s/agent/images/k3s-airgap-images-arm64.tar.zst', mode: 0o644 },
      { local: '/files/install.sh', remote: '/usr/local/share/revue-pi/k3s-install.sh', mode: 0o755 },
    ]);
  });

  it('never carries a token, and the script checks that the unit was installed', () => {
    const inv = inventory();
    const script = buildInstallScript(inv, inv.nodes[1]!, { role: 'agent' }).text;
    expect(script).not.toMatch(/TOKEN|K3S_URL/);
    expect(script).toBe(
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.36.4+k3s1 sh -s - agent || exit $?\n' +
        "if [ ! -f /etc/systemd/system/k3s-agent.service ]; then echo 'revue-pi: the K3s installer exited without installing k3s-agent.service (did the download from https://get.k3s.io fail?)' >&2; exit 1; fi\n",
    );
  });
});
