// Preloaded with --require by PIPLOCK_TEST_SABOTAGE=nospawnguard: the runner
// spawns its command without the Windows spawn guard, so that the test of the
// guard can be seen failing.
import * as guard from '../../platform/spawn-guard-windows';

(guard as { armSpawnGuard: typeof guard.armSpawnGuard }).armSpawnGuard = () => undefined;
