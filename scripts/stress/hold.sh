#!/usr/bin/env bash
# A stress-run holder command (Linux): run under a lock by the piplock CLI,
# the reference lock script or flock(1). Appends its enter line, holds for up to
# HOLD_MS milliseconds, appends its exit line. `>>` opens with O_APPEND and each
# printf is one write, so the log's order is the true order.
# usage: hold.sh LOG ID MODE [HOLD_MS]
log=$1 id=$2 mode=$3 hold=${4:-0}
printf 'E %s %s %s t=%s\n' "$id" "$mode" "$$" "$EPOCHREALTIME" >>"$log"
if ((hold > 0)); then sleep "$((hold / 1000)).$(printf %03d $((hold % 1000)))"; fi
printf 'X %s\n' "$id" >>"$log"
