import { describe, expect, it } from 'vitest';
import {
  PI5_MODEL,
  STOCK_CMDLINE_TXT,
  STOCK_CONFIG_TXT,
  addPiUser,
  bootedKernel,
  memTotalKiB,
  memoryCgroupEnabled,
  renderCgroupControllers,
  renderMeminfo,
  renderProcCmdline,
  renderSshdConfig,
} from './boot.js';
import { renderLabInventory } from './inventory.js';

const PI4 = 'Raspberry Pi 4 Model B Rev 1.5';

describe('renderProcCmdline', () => {
  it('puts the firmware additions (with cgroup_disable=memory) before the first line of cmdline.txt', () => {
    expect(renderProcCmdline(STOCK_CMDLINE_TXT, PI5_MODEL)).toBe(
      'reboot=w coherent_pool=1M 8250.nr_uarts=1 pci=pcie_bus_safe cgroup_disable=memory numa_policy=interleave nvme.max_host_mem_size_mb=0 numa=fake=8 system_heap.max_order=0 smsc95xx.macaddr=2C:CF:67:00:00:01 vc_mem.mem_base=0x3fc00000 vc_mem.mem_size=0x40000000  console=ttyAMA10,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles cfg80211.ieee80211_regdom=GB\n',
    );
  });

  it('ignores everything after the first line, as the firmware does', () => {
    const out = renderProcCmdline('root=x rootwait\ncgroup_enable=memory\n', PI5_MODEL);
    expect(out.endsWith('  root=x rootwait\n')).toBe(true);
    expect(memoryCgroupEnabled(out)).toBe(false);
  });
});

describe('memoryCgroupEnabled', () => {
  it.each([
    ['cgroup_disable=memory quiet', false],
    ['cgroup_disable=memory cgroup_memory=1 cgroup_enable=memory', true],
    ['cgroup_enable=memory cgroup_disable=memory', false],
    ['cgroup_disable=cpuset,memory cgroup_enable=cpuset', false],
    ['cgroup_disable=memory cgroup_enable=cpuset,memory', true],
    ['quiet splash', true],
  ])('%s → %s', (cmdline, expected) => {
    expect(memoryCgroupEnabled(cmdline)).toBe(expected);
  });

  it('drives cgroup.controllers', () => {
    expect(renderCgroupControllers(true)).toBe('cpuset cpu io memory pids\n');
    expect(renderCgroupControllers(false)).toBe('cpuset cpu io pids\n');
  });
});

describe('bootedKernel', () => {
  it('boots the 16K-page kernel_2712.img on a stock Pi 5', () => {
    expect(bootedKernel(STOCK_CONFIG_TXT, PI5_MODEL)).toEqual({ image: 'kernel_2712.img', release: '6.12.47+rpt-rpi-2712', pageSize: 16384 });
  });

  it.each([
    ['at the end ([all])', `${STOCK_CONFIG_TXT}kernel=kernel8.img\n`, 'kernel8.img'],
    ['in [pi5]', `${STOCK_CONFIG_TXT}[pi5]\nkernel=kernel8.img\n`, 'kernel8.img'],
    ['at the top', `kernel=kernel8.img\n${STOCK_CONFIG_TXT}`, 'kernel8.img'],
    ['only in [cm4]', STOCK_CONFIG_TXT.replace('otg_mode=1', 'otg_mode=1\nkernel=kernel8.img'), 'kernel_2712.img'],
    ['only in [pi4]', `${STOCK_CONFIG_TXT}[pi4]\nkernel=kernel8.img\n`, 'kernel_2712.img'],
    ['commented out', `${STOCK_CONFIG_TXT}#kernel=kernel8.img\n`, 'kernel_2712.img'],
  ])('kernel=kernel8.img %s', (_what, config, image) => {
    expect(bootedKernel(config, PI5_MODEL).image).toBe(image);
  });

  it('gives 4K pages with kernel8.img and on a Pi 4 by default', () => {
    expect(bootedKernel(`${STOCK_CONFIG_TXT}kernel=kernel8.img\n`, PI5_MODEL)).toEqual({ image: 'kernel8.img', release: '6.12.47+rpt-rpi-v8', pageSize: 4096 });
    expect(bootedKernel(STOCK_CONFIG_TXT, PI4).pageSize).toBe(4096);
  });
});

describe('renderMeminfo', () => {
  it('replaces the totals and keeps the other lines', () => {
    const host = 'MemTotal:       24683620 kB\nMemFree:        24000000 kB\nMemAvailable:   24100000 kB\nBuffers:           12345 kB\n';
    const out = renderMeminfo(host, 4096);
    expect(out.split('\n')[0]).toBe(`MemTotal:        ${memTotalKiB(4096)} kB`);
    expect(memTotalKiB(4096)).toBe(4123001);
    expect(out).toContain('Buffers:           12345 kB');
    expect(out).toMatch(/^SwapTotal: +524284 kB$/m);
  });
});

describe('addPiUser', () => {
  const files = {
    passwd: 'root:x:0:0:root:/root:/bin/bash\ncloudsdk:x:1000:1000::/home/cloudsdk:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\n',
    shadow: 'root:*:19000:0:99999:7:::\ncloudsdk:!:19000:0:99999:7:::\n',
    group: 'root:x:0:\nsudo:x:27:cloudsdk\nvideo:x:44:\ncloudsdk:x:1000:\n',
    gshadow: 'root:*::\nsudo:*::cloudsdk\nvideo:*::\ncloudsdk:!::\n',
  };
  it('replaces whoever had uid/gid 1000 by pi and puts pi in the Pi OS groups', () => {
    expect(addPiUser(files, '*')).toEqual({
      passwd: 'root:x:0:0:root:/root:/bin/bash\nsshd:x:100:65534::/run/sshd:/usr/sbin/nologin\npi:x:1000:1000:,,,:/home/pi:/bin/bash\n',
      shadow: 'root:*:19000:0:99999:7:::\npi:*:20000:0:99999:7:::\n',
      group: 'root:x:0:\nsudo:x:27:pi\nvideo:x:44:pi\npi:x:1000:\n',
      gshadow: 'root:*::\nsudo:*::pi\nvideo:*::pi\npi:!::\n',
    });
  });
});

describe('renderSshdConfig', () => {
  it('listens on the node address only and allows passwords only when asked', () => {
    const conf = renderSshdConfig({ address: '127.0.10.2', port: 22, passwordLogin: false });
    expect(conf).toContain('\nListenAddress 127.0.10.2:22\n');
    expect(conf).toContain('\nPasswordAuthentication no\n');
    expect(conf).not.toMatch(/^ListenAddress 0\.0\.0\.0/m);
    expect(renderSshdConfig({ address: '127.0.10.2', port: 22, passwordLogin: true })).toContain('\nPasswordAuthentication yes\n');
  });
});

describe('renderLabInventory', () => {
  const nodes = [
    { name: 'pi-1', address: '127.0.10.2' },
    { name: 'pi-2', address: '127.0.10.3' },
    { name: 'pi-3', address: '127.0.10.4' },
  ];
  const base = { user: 'pi', port: 22, keyPath: '/lab/id_ed25519', knownHostsFile: '/lab/known_hosts' };

  it('makes the first node the server and the rest agents', () => {
    expect(renderLabInventory(nodes.slice(0, 2), base)).toEqual({
      cluster: { name: 'lab' },
      ssh: { user: 'pi', port: 22, keyPath: '/lab/id_ed25519', useAgent: false, knownHostsFile: '/lab/known_hosts' },
      nodes: [
        { name: 'pi-1', host: '127.0.10.2', role: 'server' },
        { name: 'pi-2', host: '127.0.10.3', role: 'agent' },
      ],
    });
  });

  it('gives a node with its own sshd port that port in its ssh settings', () => {
    const [first, second] = nodes;
    expect(renderLabInventory([first!, { ...second!, port: 2222 }], base).nodes).toEqual([
      { name: 'pi-1', host: '127.0.10.2', role: 'server' },
      { name: 'pi-2', host: '127.0.10.3', role: 'agent', ssh: { port: 2222 } },
    ]);
  });

  it('adds a MetalLB pool when given addresses', () => {
    expect(renderLabInventory(nodes, { ...base, poolAddresses: ['127.0.10.200-127.0.10.220'] }).network).toEqual({
      metallb: { pools: [{ name: 'lab', addresses: ['127.0.10.200-127.0.10.220'] }] },
    });
  });

  it('deep-merges extra, merges nodes by name, omits and appends', () => {
    const inv = renderLabInventory(nodes, base, {
      cluster: { name: 'ha' },
      ssh: { sudoPasswordEnv: 'LAB_SUDO' },
      pi: { kernel4k: false },
      nodes: [
        { name: 'pi-2', role: 'server', labels: { a: 'b' } },
        { name: 'pi-3', omit: true },
        { name: 'ghost', host: '127.0.10.99', role: 'agent' },
      ],
    });
    expect(inv.cluster).toEqual({ name: 'ha' });
    expect(inv.ssh).toEqual({ ...(renderLabInventory(nodes, base).ssh as object), sudoPasswordEnv: 'LAB_SUDO' });
    expect(inv.pi).toEqual({ kernel4k: false });
    expect(inv.nodes).toEqual([
      { name: 'pi-1', host: '127.0.10.2', role: 'server' },
      { name: 'pi-2', host: '127.0.10.3', role: 'server', labels: { a: 'b' } },
      { name: 'ghost', host: '127.0.10.99', role: 'agent' },
    ]);
  });

  it('rejects node entries without a name', () => {
    expect(() => renderLabInventory(nodes, base, { nodes: [{ role: 'server' }] })).toThrow(/needs a name/);
  });
});
