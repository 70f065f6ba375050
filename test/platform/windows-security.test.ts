/**
 * The security descriptor of the Windows gate and release event, built from
 * the lock file's own (a pure function: every lane runs it).
 */
import * as assert from 'node:assert/strict';
import { EVENT_RIGHTS, GATE_RIGHTS, objectSddl } from '../../platform/windows-security';

const USER = 'S-1-5-21-1-2-3-1001';

describe('Windows objects: who may open them', function () {
  it('grants the gate rights to each SID that may read the lock file, and nothing else', function () {
    const file = `O:${USER}D:(A;;FA;;;SY)(A;;FA;;;${USER})(A;;0x1200a9;;;BU)(A;;FX;;;WD)`;
    assert.equal(
      objectSddl(file, GATE_RIGHTS),
      `D:(A;;0x100001;;;OW)(A;;0x100001;;;SY)(A;;0x100001;;;${USER})(A;;0x100001;;;BU)S:(ML;;NW;;;LW)`,
    );
  });

  it('never grants Anonymous, WRITE_DAC, WRITE_OWNER or GENERIC_ALL, even where the file grants them', function () {
    const sddl = objectSddl(`O:BAD:(A;;GA;;;AN)(A;;GA;;;WD)(A;;FA;;;BA)`, EVENT_RIGHTS);
    assert.equal(sddl, 'D:(A;;0x100002;;;OW)(A;;0x100002;;;WD)(A;;0x100002;;;BA)S:(ML;;NW;;;LW)');
    assert.doesNotMatch(sddl, /AN\)|;GA;|;WD;|;WO;/);
  });

  it('denies first whom the file denies reading; OWNER RIGHTS stands for the file owner; inherit-only ACEs and creator placeholders are left out', function () {
    const file = `O:${USER}G:SYD:PAI(D;;FR;;;S-1-5-21-9)(A;OICIIO;GA;;;CO)(A;ID;FA;;;OW)(A;;0x1;;;AU)(A;;FW;;;BU)`;
    assert.equal(
      objectSddl(file, GATE_RIGHTS),
      `D:(D;;0x100001;;;S-1-5-21-9)(A;;0x100001;;;OW)(A;;0x100001;;;${USER})(A;;0x100001;;;AU)S:(ML;;NW;;;LW)`,
    );
  });

  it('a file without a DACL (FAT, or none readable) may be used by everyone: Everyone, which excludes Anonymous', function () {
    for (const file of ['O:SYD:NO_ACCESS_CONTROL', undefined])
      assert.equal(objectSddl(file, GATE_RIGHTS), 'D:(A;;0x100001;;;OW)(A;;0x100001;;;WD)S:(ML;;NW;;;LW)');
  });
});
