/**
 * The images the conformance suite runs, packed here without Docker or a
 * registry under the names the suite asks for (`e2e.test --list-images`):
 * agnhost from its Go source (the version the suite's module carries), with
 * Debian's static busybox for the shell and, like the upstream image, the
 * distribution's netcat, curl, dig, nslookup, ip and bash its tests call; busybox
 * from that same binary; glibc-dns-testing (the DNS specs' second querier) from
 * busybox, Debian's dig and glibc's getent; the pause image as the hosts' own. Images the suite
 * lists that are not built here (nginx, perl, the storage drivers …) are
 * named in the report: the tests that need them cannot pass.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { LayerEntry, OciImage, OciImageConfig } from '@kok/host-rig';
import {
  busyboxPath,
  hostArchitecture,
  machinePathsLayer,
  packOciImage,
  sharedLibraries,
  sleepUntilTerminatedScript,
} from '@kok/host-rig';

export interface ConformanceImageInputs {
  /** The agnhost binary (tools/build-conformance.sh) and the version its source declares. */
  readonly agnhost: string;
  readonly agnhostVersion: string;
  /** test/images/agnhost of the module, for the files its image carries (porter's key pair). */
  readonly agnhostSource: string;
  /** What `e2e.test --list-images` prints. */
  readonly listed: readonly string[];
}

export interface PackedImages {
  readonly images: readonly OciImage[];
  /** Listed images not packed here, for the report. */
  readonly missing: readonly string[];
}

const E2E_REGISTRY = 'registry.k8s.io/e2e-test-images';

/** Which listed images are built here, by reference, and which are not. Pure. */
export function planImages(
  listed: readonly string[],
  agnhostVersion: string,
): { agnhost?: string; busybox: string[]; glibcDnsTesting: string[]; pause: string[]; missing: string[] } {
  const agnhost = listed.find((image) => image === `${E2E_REGISTRY}/agnhost:${agnhostVersion}`);
  const busybox = listed.filter((image) => image.startsWith(`${E2E_REGISTRY}/busybox:`));
  const glibcDnsTesting = listed.filter((image) => image.startsWith(`${E2E_REGISTRY}/glibc-dns-testing:`));
  const pause = listed.filter((image) => image.startsWith('registry.k8s.io/pause:'));
  const packed = new Set([...(agnhost ? [agnhost] : []), ...busybox, ...glibcDnsTesting, ...pause]);
  return {
    ...(agnhost ? { agnhost } : {}),
    busybox,
    glibcDnsTesting,
    pause,
    missing: listed.filter((image) => !packed.has(image)),
  };
}

/** Debian's static busybox with a link per applet in `binDir`, but for the applets named in `except`. */
function busyboxWithApplets(binDir: string, except: readonly string[] = []): LayerEntry[] {
  const applets = execFileSync(busyboxPath, ['--list'], { encoding: 'utf8' })
    .split('\n')
    .map((applet) => applet.trim())
    .filter((applet) => applet !== '' && applet !== 'busybox' && !except.includes(applet));
  return [
    { type: 'directory', path: binDir },
    { type: 'file', path: `${binDir}/busybox`, fromFile: busyboxPath, mode: 0o755 },
    ...applets.map((applet): LayerEntry => ({
      type: 'symlink',
      path: `${binDir}/${applet}`,
      target: 'busybox',
    })),
    { type: 'directory', path: '/tmp', mode: 0o1777 },
  ];
}

/** A program of this machine's distribution: where it is, and the Debian package that puts it there. */
interface DistributionTool {
  readonly path: string;
  readonly debianPackage: string;
}

const DIG: DistributionTool = { path: '/usr/bin/dig', debianPackage: 'bind9-dnsutils' };
const GETENT: DistributionTool = { path: '/usr/bin/getent', debianPackage: 'libc-bin' };

/**
 * The tools the upstream agnhost image installs from its distribution, by the name its tests call
 * them (`nc -v -t -w 2`, `curl -g -q -s`, `dig +short`, `getent hosts`, `ip`, `bash`): busybox has
 * no getent, and its applets of the other names lack the options the suite passes.
 */
const AGNHOST_TOOLS: Readonly<Record<string, DistributionTool>> = {
  nc: { path: '/usr/bin/nc.openbsd', debianPackage: 'netcat-openbsd' },
  curl: { path: '/usr/bin/curl', debianPackage: 'curl' },
  dig: DIG,
  nslookup: { path: '/usr/bin/nslookup', debianPackage: 'bind9-dnsutils' },
  ip: { path: '/usr/bin/ip', debianPackage: 'iproute2' },
  bash: { path: '/usr/bin/bash', debianPackage: 'bash' },
  getent: GETENT,
};

/**
 * What the DNS specs' glibc querier runs besides a shell (`dig +notcp +noall +answer +search`,
 * `getent hosts`): the point of that image is a glibc userland, whose getent resolves names the glibc
 * way (dig, Debian's, does its own lookups).
 */
const GLIBC_DNS_TOOLS: Readonly<Record<string, DistributionTool>> = {
  dig: DIG,
  getent: GETENT,
};

/** Where glibc's getent looks for a host: the pod's /etc/hosts first, then DNS, as the upstream images do. */
const HOSTS_FROM_FILES_THEN_DNS: LayerEntry = {
  type: 'file',
  path: '/etc/nsswitch.conf',
  content: 'hosts: files dns\n',
  mode: 0o644,
};

/**
 * The tools in /usr/bin (ahead of busybox's /bin on PATH), each with the shared libraries `ldd`
 * lists, at their paths on this machine.
 */
function distributionToolsLayer(
  image: string,
  wanted: Readonly<Record<string, DistributionTool>>,
): LayerEntry[] {
  const missing = Object.values(wanted).filter((tool) => !existsSync(tool.path));
  if (missing.length > 0)
    throw new Error(
      `the ${image} image needs ${missing.map((t) => t.path).join(', ')}: apt-get install ${[
        ...new Set(missing.map((t) => t.debianPackage)),
      ].join(' ')} (tools/build-conformance.sh does)`,
    );
  const tools = Object.entries(wanted).map(([name, tool]) => ({ name, file: realpathSync(tool.path) }));
  return machinePathsLayer(sharedLibraries(tools.map((tool) => tool.file)), [
    { type: 'directory', path: '/usr' },
    { type: 'directory', path: '/usr/bin' },
    ...tools.map(({ name, file }): LayerEntry => ({
      type: 'file',
      path: `/usr/bin/${name}`,
      fromFile: file,
      mode: 0o755,
    })),
  ]);
}

/** One image named by every reference of one repository (the first its tag, the rest extra tags); none for none. */
function packUnderEveryTag(
  references: readonly string[],
  layers: readonly (readonly LayerEntry[])[],
  config: OciImageConfig,
): OciImage[] {
  const [first, ...more] = references;
  if (!first) return [];
  return [
    packOciImage({
      ...split(first),
      extraTags: more.map((reference) => split(reference).tag),
      layers,
      config,
      architecture: hostArchitecture(),
    }),
  ];
}

const split = (reference: string) => {
  const colon = reference.lastIndexOf(':');
  return { name: reference.slice(0, colon), tag: reference.slice(colon + 1) };
};

export function packConformanceImages(inputs: ConformanceImageInputs): PackedImages {
  const plan = planImages(inputs.listed, inputs.agnhostVersion);
  const architecture = hostArchitecture();
  const images: OciImage[] = [];
  if (plan.agnhost)
    images.push(
      packOciImage({
        ...split(plan.agnhost),
        layers: [
          [
            // Debian's busybox shell runs its own applets before anything on PATH (nc without -v, say):
            // sh is bash here, which finds the distribution's tools in /usr/bin first.
            ...busyboxWithApplets('/bin', ['sh']),
            ...distributionToolsLayer('agnhost', AGNHOST_TOOLS),
            { type: 'symlink', path: '/bin/bash', target: '/usr/bin/bash' },
            { type: 'symlink', path: '/bin/sh', target: '/usr/bin/bash' },
            { type: 'file', path: '/agnhost', fromFile: inputs.agnhost, mode: 0o755 },
            // Some entrypoint tests run the image with this second name.
            { type: 'symlink', path: '/agnhost-2', target: 'agnhost' },
            { type: 'directory', path: '/uploads' },
            {
              type: 'file',
              path: '/localhost.crt',
              fromFile: join(inputs.agnhostSource, 'porter/localhost.crt'),
              mode: 0o644,
            },
            {
              type: 'file',
              path: '/localhost.key',
              fromFile: join(inputs.agnhostSource, 'porter/localhost.key'),
              mode: 0o644,
            },
            { type: 'directory', path: '/etc' },
            HOSTS_FROM_FILES_THEN_DNS,
            // The user and group a SupplementalGroups test expects the image to define.
            {
              type: 'file',
              path: '/etc/passwd',
              content:
                'root:x:0:0:root:/root:/bin/sh\nuser-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\n',
              mode: 0o644,
            },
            {
              type: 'file',
              path: '/etc/group',
              content:
                'root:x:0:\nuser-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\n',
              mode: 0o644,
            },
          ],
        ],
        config: {
          entrypoint: ['/agnhost'],
          cmd: ['pause'],
          env: ['PATH=/usr/local/bin:/usr/bin:/bin:/'],
          workingDir: '/',
          exposedPorts: ['80/tcp', '8080/tcp', '8081/tcp', '9376/tcp', '5000/tcp'],
        },
        architecture,
      }),
    );
  const busybox = packUnderEveryTag(plan.busybox, [busyboxWithApplets('/bin')], {
    cmd: ['sh'],
    env: ['PATH=/usr/local/bin:/usr/bin:/bin'],
  });
  const glibcDnsTesting = packUnderEveryTag(
    plan.glibcDnsTesting,
    [
      [
        ...busyboxWithApplets('/bin'),
        ...distributionToolsLayer('glibc-dns-testing', GLIBC_DNS_TOOLS),
        { type: 'directory', path: '/etc' },
        HOSTS_FROM_FILES_THEN_DNS,
      ],
    ],
    { cmd: ['sh'], env: ['PATH=/usr/local/bin:/usr/bin:/bin'] },
  );
  images.push(...busybox, ...glibcDnsTesting);
  // The hosts' own pause: a shell that sleeps until it is told to stop.
  for (const reference of plan.pause)
    images.push(
      packOciImage({
        ...split(reference),
        layers: [busyboxWithApplets('/bin')],
        config: { entrypoint: ['/bin/sh', '-c', sleepUntilTerminatedScript], env: ['PATH=/bin'] },
        architecture,
      }),
    );
  return { images, missing: plan.missing };
}
