#!/usr/bin/env bash
# A 1M-customer segment exported to PostgreSQL through the whole product, next
# to `psql \copy` of the same rows (the ceiling), in the same run; then the
# delta after a refresh that changed members. Prints figures, never pass/fail.
#
#   bench/exports/segment_to_postgres.sh [CDP] [CUSTOMERS] [WORKDIR]
#
# CDP: a Release cdp (default build/release/cdp); CUSTOMERS: people in the
# Contoso demo (default 1000000; about 1.82 records each); WORKDIR: where the
# demo, the workspace and a throwaway PostgreSQL cluster go (default a new
# temporary directory, removed at the end). The segment "Everyone"
# (CustomerId > 0) holds every customer; it is exported with the lab's fields
# to a table on a PostgreSQL server this script starts on a free loopback
# port (fsync off, as bench_exports_postgres). The timed parts:
#  1. cdp run (generate, ingest, unify, measures, segments): apart, not part of the export;
#  2. cdp export run (full: reads the members, formats, hashes, pending file, COPY + merge);
#  3. psql \copy of the CSV the files destination writes for the same export (ceiling);
#  4. 1% of the eCommerce contacts' cities changed, cdp run, and the delta export: seconds, rows sent.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/../.." && pwd)"
CDP=$(realpath "${1:-$HERE/build/release/cdp}")
N=${2:-1000000}
OWN_WORK=0
if [ -n "${3:-}" ]; then WORK=$3; else WORK=$(mktemp -d /tmp/cdp_seg_pg_XXXXXX); OWN_WORK=1; fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$WORK"
RUNAS=()
if [ "$(id -u)" -eq 0 ]; then
  chown -R nobody "$WORK" 2>/dev/null || true
  RUNAS=(runuser -u nobody --)
fi
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }
div() { python3 -c "print(f'{$1 / $2:.${3:-0}f}')"; }
cleanup() {
  "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate stop >/dev/null 2>&1 || true
  if [ "$OWN_WORK" = 1 ]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"${RUNAS[@]}" "$PGBIN/initdb" -D "$WORK/pg" -U cdp -A trust >/dev/null
"${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$WORK/pg" -l "$WORK/pg.log" -o "-p $PORT -k $WORK -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c shared_buffers=256MB" -w start >/dev/null
psql() { command psql -h 127.0.0.1 -p "$PORT" -U cdp -d postgres -v ON_ERROR_STOP=1 -q "$@"; }

cd "$WORK"
gen() {
  "$CDP" demo generate --customers "$1" --seed 42 --out "$WORK/sources" >/dev/null
}
t0=$(now); gen "$N"
{
  cat "$HERE/examples/contoso/project.yaml"
  cat <<YAML
  - name: Everyone
    type: dynamic
    rules:
      - entity: Customer
        conditions:
          - {field: CustomerId, op: greater, values: [0]}
connections:
  - {name: Warehouse, kind: postgres, settings: {host: 127.0.0.1, port: "$PORT", database: postgres, user: cdp}}
  - {name: Files, kind: files, settings: {path: $WORK/files}}
exports:
  - name: EveryoneToPostgres
    connection: Warehouse
    what: {segment: Everyone}
    fields: [CustomerId, FirstName, LastName, Email, City, State, DateOfBirth, LifetimeSpend, AverageWebPurchase, DaysSinceLastPurchase]
    when: manual
    target: everyone
  - name: EveryoneToCsv
    connection: Files
    what: {segment: Everyone}
    fields: [CustomerId, FirstName, LastName, Email, City, State, DateOfBirth, LifetimeSpend, AverageWebPurchase, DaysSinceLastPurchase]
    when: manual
    mode: full
    target: everyone
YAML
} > "$WORK/project.yaml"
# The segments block is last in project.yaml's segments list? Keep the search section valid:
python3 - "$WORK/project.yaml" <<'PY'
import sys,re
p=sys.argv[1]; s=open(p).read()
# move the Everyone segment into the segments list (it was appended after the file's last section)
everyone=s[s.index("  - name: Everyone"):s.index("connections:")]
s=s.replace(everyone,"")
s=s.replace("segments:\n","segments:\n"+everyone,1)
open(p,"w").write(s)
PY
"$CDP" init "$WORK/ws" >/dev/null
"$CDP" apply -w "$WORK/ws" "$WORK/project.yaml" >/dev/null
"$CDP" run -w "$WORK/ws" >/dev/null
t1=$(now)
members=$("$CDP" segment list -w "$WORK/ws" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("items", d) if isinstance(d, dict) else d; print([s.get("members", s.get("stored_members")) for s in d if s["name"]=="Everyone"][0])' 2>/dev/null || echo "?")
echo "generate + cdp run ($N people): $(secs "$t0" "$t1") s; segment Everyone: $members members"

t2=$(now); "$CDP" export run EveryoneToPostgres -w "$WORK/ws" >/dev/null; t3=$(now)
ours=$(secs "$t2" "$t3")
rows=$(psql -At -c "select count(*) from everyone")
echo "cdp export run (full, to PostgreSQL): $ours s, $rows rows, $(div "$rows" "$ours") rows/s"

"$CDP" export run EveryoneToCsv -w "$WORK/ws" >/dev/null
psql -c "create table ceiling (like everyone including all)"
t4=$(now); psql -c "\\copy ceiling from '$WORK/files/everyone.csv' with (format csv, header true)"; t5=$(now)
ceil=$(secs "$t4" "$t5")
echo "psql \\copy of the same rows (ceiling): $ceil s, $(div "$rows" "$ceil") rows/s; ours / ceiling = $(div "$ceil" "$ours" 2)"
diff=$(psql -At -c "select count(*) from ((select * from everyone except select * from ceiling) union all (select * from ceiling except select * from everyone)) d")
echo "rows that differ between the two tables: $diff"

# A later refresh where 1% of the members changed: the City of every 100th
# eCommerce contact is rewritten (the winning City of most of them), then
# cdp run; the delta export sends what changed.
python3 - "$WORK/sources/ecommerce_contacts.csv" <<'PY'
import csv, sys
p = sys.argv[1]
rows = list(csv.reader(open(p, newline="")))
city = rows[0].index("City")
for i in range(1, len(rows), 100):
    rows[i][city] = rows[i][city] + " Heights"
csv.writer(open(p, "w", newline=""), lineterminator="\n").writerows(rows)
PY
"$CDP" run -w "$WORK/ws" >/dev/null
t6=$(now); out=$("$CDP" export run EveryoneToPostgres -w "$WORK/ws" --json); t7=$(now)
echo "delta after the refresh: $(secs "$t6" "$t7") s; $(echo "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); r=r[-1] if isinstance(r, list) else r; print("%d rows sent (%d added, %d changed, %d removed)" % (r["rows_sent"], r["added"], r["changed"], r["removed"]))')"
echo "table rows now: $(psql -At -c "select count(*) from everyone"); segment: $("$CDP" segment list -w "$WORK/ws" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("items", d) if isinstance(d, dict) else d; print([s.get("members", s.get("stored_members")) for s in d if s["name"]=="Everyone"][0])')"
