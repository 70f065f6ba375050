/** FreeBSD: POSIX locking with flock from its C library, libc.so.7. */
import { posixPlatform } from './posix';
import type { Platform } from './types';

export const freebsd: Platform = posixPlatform('freebsd', 'libc.so.7');
