/**
 * Preload (`node -r`), Windows only: a file system without usable file IDs,
 * as WinFsp and Dokan drives and some network or virtual drives are. It wraps
 * the kernel32 calls the product makes and changes nothing else.
 * PIPLOCK_TEST_ZERO_IDS chooses what the file system does:
 * - unset or `all`: FILE_ID_INFO's 128-bit FileId reads 0 (its documentation
 *   says such a value "must be ignored"), and so does the 64-bit index of
 *   GetFileInformationByHandle;
 * - `128`: only the FileId reads 0;
 * - `124`: FileIdInfo fails with ERROR_INVALID_LEVEL, as Samba answers.
 * The volume serial is left alone.
 *
 * PIPLOCK_TEST_SABOTAGE=noidfallback: the platform's fallbacks never see these
 * answers, so that the tests that need them fail. The FileId reads 1 instead
 * of 0: one ID for every file, which the platform cannot tell from a real one
 * and trusts, as it trusted 0 before it had the fallback. Error 124 becomes
 * ERROR_INVALID_HANDLE, the one FileIdInfo error that is not a fallback.
 */
import type * as Koffi from 'koffi';
import { kernel32 } from '../../platform/kernel32';
import { sabotaged } from './sabotage';

const FileIdInfo = 0x12;
const ERROR_INVALID_HANDLE = 6;
const ERROR_INVALID_LEVEL = 124;

type AnyFn = (...args: unknown[]) => unknown;

if (process.platform === 'win32') {
  const mode = process.env.PIPLOCK_TEST_ZERO_IDS ?? 'all';
  const noFallback = sabotaged('noidfallback');
  const k = kernel32() as unknown as Record<string, AnyFn>;
  const byHandleEx = k.GetFileInformationByHandleEx!;
  const koffi = require('koffi') as typeof Koffi;
  const setLastError = koffi.load('kernel32.dll').func('__stdcall', 'SetLastError', 'void', ['uint32_t']) as (
    code: number,
  ) => void;
  k.GetFileInformationByHandleEx = (h, infoClass, info, size) => {
    if (infoClass === FileIdInfo && mode === '124') {
      setLastError(noFallback ? ERROR_INVALID_HANDLE : ERROR_INVALID_LEVEL);
      return false;
    }
    const ok = byHandleEx(h, infoClass, info, size);
    if (ok && infoClass === FileIdInfo) {
      (info as Buffer).fill(0, 8, 24);
      if (noFallback) (info as Buffer)[8] = 1;
    }
    return ok;
  };
  if (mode === 'all') {
    const byHandle = k.GetFileInformationByHandle!;
    k.GetFileInformationByHandle = (h, info) => {
      const ok = byHandle(h, info);
      if (ok) Object.assign(info as object, { nFileIndexHigh: 0, nFileIndexLow: 0 });
      return ok;
    };
  }
}
