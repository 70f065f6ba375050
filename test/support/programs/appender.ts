// Appends COUNT event records to LOCKFILE's event log, as COUNT runners of one process would:
//   appender.js LOCKFILE COUNT ID
// PIPLOCK_TEST_SABOTAGE=noappend writes each record at the end of the file as its size said a moment
// before, without O_APPEND: the lost-update writer that the event log's one O_APPEND write exists to avoid.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sideDir } from '../../../platform';
import { appendEvent, EVENTS_FILE } from '../../../src/runner/event-log';
import type { EventRecord } from '../../../src/runner/event-log';
import { sabotaged } from '../sabotage';

const [lockfile, countText, id] = process.argv.slice(2);
if (lockfile === undefined || countText === undefined || id === undefined) {
  process.stderr.write('usage: appender.js LOCKFILE COUNT ID\n');
  process.exit(2);
}
const file = path.join(sideDir(lockfile), EVENTS_FILE);
for (let i = 0; i < Number(countText); i++) {
  const record: EventRecord = {
    v: 1,
    pid: process.pid,
    mode: 'shared',
    label: `//appender:${id}-${i}`,
    command: ['python3', 'x.py', String(i)],
    asked: Date.now(),
    granted: Date.now(),
    released: Date.now(),
    outcome: 'ran',
    status: 0,
  };
  if (sabotaged('noappend')) {
    const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o666);
    const at = fs.fstatSync(fd).size;
    fs.writeSync(fd, `${JSON.stringify(record)}\n`, at);
    fs.closeSync(fd);
  } else {
    appendEvent(lockfile, record, (m) => {
      process.stderr.write(`${m}\n`);
      process.exit(1);
    });
  }
}
