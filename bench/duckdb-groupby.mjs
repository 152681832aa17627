// The SQL peer: the group-by-Root job tracegrep's stats does (events, first
// and last time per trace) through DuckDB's CSV reader, the way a user would
// write it. usage: node duckdb-groupby.mjs FILE THREADS
import { DuckDBInstance } from '@duckdb/node-api';

const [file, threads] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: String(threads || 2) });
const con = await db.connect();
const t0 = process.hrtime.bigint();
// ALB lines: space separated, double quotes, backslash escapes, 18 to 36+
// columns (null_padding pads short generations). column17 is field 18.
const sql = `
  WITH t AS (
    SELECT regexp_extract(column17, 'Root=(1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24})', 1) AS root,
           column01 AS time, column21 AS created
    FROM read_csv('${file}', delim=' ', quote='"', escape='\\', header=false,
                  null_padding=true, all_varchar=true, ignore_errors=true,
                  max_line_size=4000000, auto_detect=false,
                  columns={${Array.from({ length: 40 }, (_, i) => `'column${String(i).padStart(2, '0')}': 'VARCHAR'`).join(', ')}}))
  SELECT count(*) AS traces, sum(n) AS events FROM (
    SELECT root, count(*) AS n, min(created) AS first, max(time) AS last
    FROM t WHERE root <> '' GROUP BY root)`;
const reader = await con.runAndReadAll(sql);
const rows = reader.getRows();
const secs = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ traces: Number(rows[0][0]), events: Number(rows[0][1]), seconds: secs }));
