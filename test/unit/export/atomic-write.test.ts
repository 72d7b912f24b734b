import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicFileBatch, AtomicWriteError, writeFileAtomic, writeFilesAtomically } from '../../../src/common/atomic-write.js';
import { runTool } from '../../helpers/validators.js';

describe('atomic-write', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cardca-atomic-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('writes content with the requested mode regardless of umask, leaves no temp file', async () => {
    const old = process.umask(0o077);
    try {
      await writeFileAtomic(join(dir, 'a.pem'), 'hello\n');
      await writeFileAtomic(join(dir, 'b.bin'), Uint8Array.of(1, 2, 3), { mode: 0o600 });
    } finally {
      process.umask(old);
    }
    assert.equal(await readFile(join(dir, 'a.pem'), 'utf8'), 'hello\n');
    assert.equal((await stat(join(dir, 'a.pem'))).mode & 0o777, 0o644);
    assert.deepEqual([...(await readFile(join(dir, 'b.bin')))], [1, 2, 3]);
    assert.equal((await stat(join(dir, 'b.bin'))).mode & 0o777, 0o600);
    assert.deepEqual((await readdir(dir)).filter((f) => f.endsWith('.tmp')), []);
  });

  test('replaces an existing file in one step', async () => {
    const p = join(dir, 'replace.txt');
    await writeFile(p, 'old');
    await writeFileAtomic(p, 'new content');
    assert.equal(await readFile(p, 'utf8'), 'new content');
  });

  test('a failed write throws FS_WRITE_FAILED and leaves nothing behind', async () => {
    await assert.rejects(writeFileAtomic(join(dir, 'missing-dir', 'x.txt'), 'x'), (e: unknown) => {
      assert.ok(e instanceof AtomicWriteError);
      assert.equal(e.code, 'FS_WRITE_FAILED');
      assert.match(e.hint ?? '', /unchanged/);
      return true;
    });
    await assert.rejects(stat(join(dir, 'missing-dir')));
  });

  test('a write that runs out of space fails cleanly and leaves no partial file (ulimit -f)', async () => {
    // A child process with a 1-block file size limit: the write fails with EFBIG, the target
    // must not appear and the temp file must be gone.
    const target = join(dir, 'big.bin');
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(new URL('../../../src/common/atomic-write.js', import.meta.url).href)};
      process.on('SIGXFSZ', () => {});
      try { await writeFileAtomic(${JSON.stringify(target)}, new Uint8Array(4 * 1024 * 1024)); console.log('WROTE'); }
      catch (e) { console.log('ERR', e.code); }
    `;
    const r = await runTool('bash', ['-c', `ulimit -f 1; exec node --input-type=module -e "$0"`, script]);
    assert.match(r.output, /ERR FS_WRITE_FAILED/, r.output);
    assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith('.big.bin') || f === 'big.bin'), []);
  });

  test('writeFilesAtomically creates sub-directories and refuses paths outside the directory', async () => {
    const out = join(dir, 'set');
    const written = await writeFilesAtomically(out, [
      { path: 'x509ca/root.pem', bytes: Buffer.from('r') },
      { path: 'conf.d/a.conf', bytes: Buffer.from('c'), mode: 0o640 },
    ]);
    assert.deepEqual(written, [join(out, 'x509ca/root.pem'), join(out, 'conf.d/a.conf')]);
    assert.equal(await readFile(join(out, 'x509ca/root.pem'), 'utf8'), 'r');
    assert.equal((await stat(join(out, 'conf.d/a.conf'))).mode & 0o777, 0o640);
    for (const bad of ['../evil', '/etc/passwd', 'a/../../b', '']) {
      await assert.rejects(writeFilesAtomically(out, [{ path: bad, bytes: Buffer.from('x') }]), (e: unknown) => {
        assert.ok(e instanceof AtomicWriteError);
        assert.equal(e.code, 'FS_PATH_INVALID');
        return true;
      });
    }
  });

  test('fsync order: temp file fsync, rename, directory fsync (strace, G2)', async () => {
    const target = join(dir, 'traced.txt');
    const script = `
      import { writeFileAtomic } from ${JSON.stringify(new URL('../../../src/common/atomic-write.js', import.meta.url).href)};
      await writeFileAtomic(${JSON.stringify(target)}, 'traced');
    `;
    const r = await runTool('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2', 'node', '--input-type=module', '-e', script]);
    assert.ok(r.ok, r.output);
    const events = r.output
      .split('\n')
      .map((l) => (/rename\w*\(.*traced\.txt/.test(l) ? 'rename' : /\b(fsync|fdatasync)\(/.test(l) ? 'fsync' : ''))
      .filter((e) => e !== '');
    const renameIdx = events.indexOf('rename');
    assert.ok(renameIdx > 0 && events[renameIdx - 1] === 'fsync', `no fsync right before rename: ${events.join(',')}`);
    assert.equal(events[renameIdx + 1], 'fsync', `no directory fsync after rename: ${events.join(',')}`);
  });

  describe('AtomicFileBatch', () => {
    const moduleUrl = JSON.stringify(new URL('../../../src/common/atomic-write.js', import.meta.url).href);

    test('files appear complete under their names only at flush; no temp file is left', async () => {
      const out = join(dir, 'batch-basic', 'sub');
      const b = new AtomicFileBatch();
      for (let i = 0; i < 10; i++) await b.write(join(out, `c${i}.crt`), `cert ${i}\n`.repeat(50), { mkdirs: true });
      await b.write(join(out, 'c3.crt'), 'rewritten\n', { mkdirs: true, mode: 0o600 }); // same target again: the later write wins
      const before = await readdir(out);
      assert.deepEqual(before.filter((f) => f.endsWith('.crt')), [], 'nothing under a final name before the flush');
      assert.equal(before.filter((f) => f.endsWith('.tmp')).length, 11);
      const written = await b.flush();
      assert.equal(written.length, 11);
      for (let i = 0; i < 10; i++) {
        if (i === 3) continue;
        assert.equal(await readFile(join(out, `c${i}.crt`), 'utf8'), `cert ${i}\n`.repeat(50));
        assert.equal((await stat(join(out, `c${i}.crt`))).mode & 0o777, 0o644);
      }
      assert.equal(await readFile(join(out, 'c3.crt'), 'utf8'), 'rewritten\n');
      assert.equal((await stat(join(out, 'c3.crt'))).mode & 0o777, 0o600);
      assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.tmp')), []);
      assert.deepEqual(await b.flush(), [], 'an empty flush does nothing');
    });

    test('more than maxPending writes flush on their own', async () => {
      const out = join(dir, 'batch-bounded');
      await mkdir(out);
      const b = new AtomicFileBatch({ maxPending: 4 });
      for (let i = 0; i < 9; i++) await b.write(join(out, `f${i}`), String(i));
      assert.equal(b.pending, 1);
      assert.equal((await readdir(out)).filter((f) => !f.endsWith('.tmp')).length, 8);
      await b.flush();
      assert.equal((await readdir(out)).length, 9);
    });

    test('fsync order: every temp file fsynced before the first rename, one directory fsync after the last (strace)', async () => {
      const out = join(dir, 'batch-traced');
      await mkdir(out);
      const script = `
        import { AtomicFileBatch } from ${moduleUrl};
        const b = new AtomicFileBatch();
        for (let i = 0; i < 5; i++) await b.write(${JSON.stringify(out)} + '/t' + i + '.crt', 'x'.repeat(100));
        console.log('WRITTEN');
        await b.flush();
      `;
      const r = await runTool('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync,rename,renameat,renameat2,write', 'node', '--input-type=module', '-e', script]);
      assert.ok(r.ok, r.output);
      const lines = r.output.split('\n');
      const start = lines.findIndex((l) => l.includes('WRITTEN'));
      assert.ok(start >= 0, r.output);
      const events = lines
        .slice(start)
        .map((l) => (/rename\w*\(.*t\d\.crt/.test(l) ? 'rename' : /\b(fsync|fdatasync)\(/.test(l) ? 'fsync' : ''))
        .filter((e) => e !== '');
      assert.deepEqual(events, ['fsync', 'fsync', 'fsync', 'fsync', 'fsync', 'rename', 'rename', 'rename', 'rename', 'rename', 'fsync'], events.join(','));
    });

    test('a write failing mid-batch leaves no partial file; the files before it flush complete (ulimit -f)', async () => {
      const out = join(dir, 'batch-efbig');
      await mkdir(out);
      const script = `
        import { AtomicFileBatch } from ${moduleUrl};
        process.on('SIGXFSZ', () => {});
        const b = new AtomicFileBatch();
        await b.write(${JSON.stringify(out)} + '/a.crt', 'first');
        try { await b.write(${JSON.stringify(out)} + '/big.crt', new Uint8Array(4 * 1024 * 1024)); console.log('WROTE'); }
        catch (e) { console.log('ERR', e.code); }
        await b.write(${JSON.stringify(out)} + '/b.crt', 'third');
        await b.flush();
        console.log('FLUSHED');
      `;
      const r = await runTool('bash', ['-c', `ulimit -f 1; exec node --input-type=module -e "$0"`, script]);
      assert.match(r.output, /ERR FS_WRITE_FAILED[\s\S]*FLUSHED/, r.output);
      assert.deepEqual((await readdir(out)).sort(), ['a.crt', 'b.crt']);
      assert.equal(await readFile(join(out, 'a.crt'), 'utf8'), 'first');
      assert.equal(await readFile(join(out, 'b.crt'), 'utf8'), 'third');
    });

    test('a process killed before its flush leaves only hidden temp files, removed by the next batch in that directory', async () => {
      const out = join(dir, 'batch-killed');
      await mkdir(out);
      await writeFile(join(out, 'old.crt'), 'previous');
      const script = `
        import { AtomicFileBatch } from ${moduleUrl};
        const b = new AtomicFileBatch();
        await b.write(${JSON.stringify(out)} + '/old.crt', 'never flushed');
        await b.write(${JSON.stringify(out)} + '/new.crt', 'never flushed');
        process.kill(process.pid, 'SIGKILL');
      `;
      await runTool('node', ['--input-type=module', '-e', script]);
      const left = await readdir(out);
      assert.equal(left.filter((f) => f.endsWith('.tmp')).length, 2, left.join(','));
      assert.deepEqual(left.filter((f) => !f.endsWith('.tmp')), ['old.crt']);
      assert.equal(await readFile(join(out, 'old.crt'), 'utf8'), 'previous', 'the final name still holds the old file');
      const b = new AtomicFileBatch();
      await b.write(join(out, 'next.crt'), 'next');
      await b.flush();
      assert.deepEqual((await readdir(out)).sort(), ['next.crt', 'old.crt']);
    });

    test('discard removes the pending temp files and leaves the targets alone', async () => {
      const out = join(dir, 'batch-discard');
      await mkdir(out);
      const b = new AtomicFileBatch();
      await b.write(join(out, 'x.crt'), 'x');
      await b.discard();
      assert.deepEqual(await readdir(out), []);
    });
  });
});
