// DKEK share key derivation (issue 10: ≤ 15 s per share on the 2-core box). One share file costs
// EVP_BytesToKey(md5, 10^7 rounds) = 3 × 10^7 MD5 rounds, for both create-share and import.
// Compares cardca's unrolled single-block loop with node's createHash per round
// (openssl cannot derive this key: `enc -iter` means PBKDF2).
import { createHash } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { md5Iterate } from '../src/card/dkek/md5-iterate.js';
import { evpBytesToKeyMd5, SC_HSM_TOOL_ITERATIONS } from '../src/card/dkek/share-file.js';

export async function run(): Promise<void> {
  const salt = Buffer.from('0011223344556677', 'hex');
  const pwd = Buffer.from('benchmark password');
  const sample = 1_000_000;
  let t = process.hrtime.bigint();
  let x = createHash('md5').update(pwd).digest();
  for (let i = 1; i < sample; i++) x = createHash('md5').update(x).digest();
  const nodeNs = Number(process.hrtime.bigint() - t) / sample;
  t = process.hrtime.bigint();
  md5Iterate(pwd, sample);
  const loopNs = Number(process.hrtime.bigint() - t) / sample;
  const load = loadavg()[0]!;
  t = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  evpBytesToKeyMd5(pwd, salt, SC_HSM_TOOL_ITERATIONS);
  const cpu = process.cpuUsage(cpu0);
  const shareS = Number(process.hrtime.bigint() - t) / 1e9;
  // CPU time is what the derivation costs on an idle core; wall time also counts the time the
  // process waited for a core (a shared, loaded machine). Both are shown with the load.
  const cpuS = (cpu.user + cpu.system) / 1e6;
  console.log(`  cpus ${cpus().length}, load average ${load.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
  console.log(`  MD5 round: node createHash ${nodeNs.toFixed(0)} ns, cardca loop ${loopNs.toFixed(0)} ns (${(nodeNs / loopNs).toFixed(1)}x)`);
  console.log(`  one share (3 × 10^7 rounds, sc-hsm-tool's count): ${shareS.toFixed(1)} s wall, ${cpuS.toFixed(1)} s CPU = ${((cpuS * 1e9) / (3 * SC_HSM_TOOL_ITERATIONS)).toFixed(0)} ns per round (target ≤ 15 s)`);
}

