// Hold the exclusive lock while an async function runs; released however it ends.
import { withLock } from 'piplock';

async function main(lockfile: string): Promise<void> {
  const installed = await withLock(lockfile, { mode: 'exclusive' }, async (lock) => {
    // ... change the virtualenv
    return `changed under the ${lock.mode} lock`;
  });
  console.log(installed);
}

void main(process.argv[2] ?? 'pip.lock');
