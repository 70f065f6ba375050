/**
 * Who may open the named objects of a lock file on Windows: the principals
 * that may read the lock file itself, each with only the rights a runner
 * uses, and no one else. The objects are then no easier to reach than the
 * lock file: whoever can stall the gate could as well hold the lock.
 */

/** The access bits of SDDL's two-letter rights (generic, standard, directory-service letters that files reuse, file). */
const LETTERS: Readonly<Record<string, number>> = {
  GA: 0x10000000,
  GR: 0x80000000,
  GW: 0x40000000,
  GX: 0x20000000,
  RC: 0x00020000,
  SD: 0x00010000,
  WD: 0x00040000,
  WO: 0x00080000,
  CC: 0x1,
  DC: 0x2,
  LC: 0x4,
  SW: 0x8,
  RP: 0x10,
  WP: 0x20,
  DT: 0x40,
  LO: 0x80,
  CR: 0x100,
  FA: 0x001f01ff,
  FR: 0x00120089,
  FW: 0x00120116,
  FX: 0x001200a0,
};

/** FILE_READ_DATA, or a generic right that includes it: what opening and locking the lock file takes (GENERIC_READ). */
const READS_DATA = 0x1 | LETTERS.GR! | LETTERS.GA!;

/** The rights a runner uses: SYNCHRONIZE with MUTEX_MODIFY_STATE (the gate) or EVENT_MODIFY_STATE (the release event). */
export const GATE_RIGHTS = 0x00100001;
export const EVENT_RIGHTS = 0x00100002;

/**
 * A Low mandatory label with no-write-up, so that a runner at any integrity
 * level may use objects that an elevated runner created.
 */
const LABEL = 'S:(ML;;NW;;;LW)';

function accessMask(rights: string): number {
  if (/^0x[0-9a-f]+$/i.test(rights) || /^\d+$/.test(rights)) return Number(rights);
  let mask = 0;
  for (let i = 0; i + 2 <= rights.length; i += 2) mask |= LETTERS[rights.slice(i, i + 2)] ?? 0;
  return mask;
}

/**
 * The SDDL for an object that `rights` lets a runner use, for a lock file
 * whose owner and DACL are `fileSddl` (as ConvertSecurityDescriptorTo-
 * StringSecurityDescriptorW gives them), or undefined where they cannot be
 * read (a file system without security).
 *
 * - Each SID that an ACE of the file allows to read its data gets `rights`;
 *   each SID denied reading it is denied them, first. OWNER RIGHTS in the
 *   file stands for the file's owner.
 * - Anonymous never gets anything; an inherit-only ACE does not apply to
 *   the file, and creator placeholders only to what inherits.
 * - An OWNER RIGHTS ACE with `rights` takes from whoever creates the object
 *   the READ_CONTROL and WRITE_DAC that an owner otherwise has: no one may
 *   change who can open it.
 * - A file with no DACL (FAT, or none readable) may be used by everyone:
 *   Everyone, which does not include Anonymous.
 */
export function objectSddl(fileSddl: string | undefined, rights: number): string {
  const hex = `0x${rights.toString(16)}`;
  const owner = fileSddl === undefined ? undefined : /O:(.+?)(?=G:|D:|S:|$)/.exec(fileSddl)?.[1];
  const dacl = fileSddl === undefined ? undefined : /D:([A-Z_]*)((?:\([^)]*\))*)/.exec(fileSddl);
  const allowed: string[] = [];
  const denied: string[] = [];
  if (dacl === undefined || dacl === null || dacl[1]!.includes('NO_ACCESS_CONTROL')) {
    allowed.push('WD');
  } else {
    for (const ace of dacl[2]!.slice(1, -1).split(')(')) {
      const [type, flags, aceRights, , , trustee] = ace.split(';');
      if (trustee === undefined || flags!.includes('IO')) continue;
      const sid = trustee === 'OW' ? owner : trustee;
      if (sid === undefined || sid === 'AN' || sid === 'CO' || sid === 'CG' || sid === 'OW') continue;
      if ((accessMask(aceRights!) & READS_DATA) === 0) continue;
      // A conditional deny (XD) is taken as a deny; a conditional allow (XA) as nothing.
      const list = type === 'A' ? allowed : type === 'D' || type === 'XD' ? denied : undefined;
      if (list !== undefined && !list.includes(sid)) list.push(sid);
    }
  }
  const ace = (type: string, sid: string): string => `(${type};;${hex};;;${sid})`;
  return `D:${denied.map((s) => ace('D', s)).join('')}${ace('A', 'OW')}${allowed.map((s) => ace('A', s)).join('')}${LABEL}`;
}
