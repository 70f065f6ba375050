import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * A build directory with .ninja files of the shapes GN writes, for //app in
 * the default toolchain and in the "arm" toolchain (//build:arm).
 */
export interface NinjaTree {
  readonly root: string;
  readonly build: string;
  cleanup(): void;
}

// An executable: compile steps as GN writes them since 2022 (per-source
// variables) and before (none), and a link step with a main output and a map.
function executable(tc: string): string {
  const o = `${tc}obj/app`;
  return `defines =
include_dirs = -I../app/include
cflags = -Os -Wall
target_output_name = firmware

build ${o}/firmware.main.cc.o: ${tc.replace('/', '_')}cxx ../app/main.cc
  source_file_part = main.cc
  source_name_part = main
build ${o}/firmware.util.c.o: ${tc.replace('/', '_')}cc ../app/util.c

build ${o}/bin/firmware.elf ${o}/bin/firmware.map: ${tc.replace('/', '_')}link ${o}/firmware.main.cc.o ${o}/firmware.util.c.o
  ldflags = -Wl,--gc-sections
  libs =
  output_extension = .elf
  output_dir = ${o}/bin
`;
}

// A source set: its objects, then the statement that marks it done, phony in
// newer GN, a .stamp in older GN.
function sourceSet(done: string): string {
  return `target_output_name = drivers

build obj/app/drivers.uart.c.o: cc ../app/uart.c
  source_file_part = uart.c
  source_name_part = uart
build obj/app/drivers.spi.c.o: cc ../app/spi.c
  source_file_part = spi.c
  source_name_part = spi

build ${done} obj/app/drivers.uart.c.o obj/app/drivers.spi.c.o
`;
}

const TOOLCHAIN_NINJA = `rule stamp
  command = touch \${out}
rule __app_gen___build_default__rule
  command = python3 ../app/gen.py
  description = ACTION //app:gen(//build:default)
  restat = 1

build gen/app/gen.h: __app_gen___build_default__rule | ../app/gen.py

build obj/app/gen.stamp: stamp gen/app/gen.h
build obj/app/pair.stamp: stamp gen/app/a.txt gen/app/b.txt
build obj/app/nothing.stamp: stamp
build phony/app/alias: phony ./gen/app/./alias.txt
build phony/app/all: phony obj/app/gen.stamp obj/app/pair.stamp
build obj/root_action.stamp: stamp gen/root.txt
subninja obj/app/firmware.ninja
`;

const ARM_TOOLCHAIN_NINJA = `rule arm_stamp
  command = touch \${out}

build arm/obj/app/gen.stamp: arm_stamp arm/gen/app/gen.h
`;

export function makeNinjaTree(): NinjaTree {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'piplock-ninja-'));
  const build = path.join(root, 'out');
  const write = (rel: string, text: string) => {
    const file = path.join(build, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  };
  write('toolchain.ninja', TOOLCHAIN_NINJA);
  write('obj/app/firmware.ninja', executable(''));
  write('obj/app/drivers.ninja', sourceSet('phony/app/drivers: phony'));
  write(
    'obj/app/drivers_old.ninja',
    sourceSet('obj/app/drivers_old.stamp: stamp').replace(/drivers\./g, 'drivers_old.'),
  );
  write('obj/app/empty.ninja', '\n');
  write(
    'obj/app/twolinks.ninja',
    'build obj/app/one.elf: link x.o\n  ldflags =\nbuild obj/app/two.elf: link y.o\n  ldflags =\n',
  );
  write('obj/app/ambiguous.ninja', 'build obj/app/lib.so obj/app/lib.a: solink x.o\n  ldflags =\n');
  write('obj/app/crlf.ninja', executable('').replace(/\n/g, '\r\n'));
  // As GN wrote them before 2022: no variables on compile steps.
  write(
    'obj/app/classic.ninja',
    executable('')
      .replace(/^ {2}source_.*\n/gm, '')
      .replace(/firmware/g, 'classic'),
  );
  write(
    'obj/app/classic_set.ninja',
    sourceSet('obj/app/classic_set.stamp: stamp')
      .replace(/^ {2}source_.*\n/gm, '')
      .replace(/drivers\./g, 'classic_set.'),
  );
  write('arm/toolchain.ninja', ARM_TOOLCHAIN_NINJA);
  write('arm/obj/app/firmware.ninja', executable('arm/'));
  fs.mkdirSync(path.join(root, 'app'), { recursive: true });
  return { root, build, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}

/**
 * Output of a real Python as a test compares it: on Windows, Python's text
 * mode ends printed lines with CRLF, which the runner passes through as it
 * must; elsewhere the text is left as it is.
 */
export function pythonText(text: string): string {
  return process.platform === 'win32' ? text.replace(/\r\n/g, '\n') : text;
}
