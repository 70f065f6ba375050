// The reader-writer rule every lock test checks against: shared requests
// coexist with a shared holder; everything else waits.
import type { LockMode } from '../../platform';

export interface MatrixCase {
  /** The mode the holder has. */
  held: LockMode;
  /** The mode another party asks for meanwhile. */
  asked: LockMode;
  /** Whether the request is granted while the holder holds. */
  coexist: boolean;
}

export const READER_WRITER: readonly MatrixCase[] = [
  { held: 'shared', asked: 'shared', coexist: true },
  { held: 'shared', asked: 'exclusive', coexist: false },
  { held: 'exclusive', asked: 'shared', coexist: false },
  { held: 'exclusive', asked: 'exclusive', coexist: false },
];

/** "a shared" / "an exclusive". */
export function aMode(mode: LockMode): string {
  return `${mode === 'exclusive' ? 'an' : 'a'} ${mode}`;
}
