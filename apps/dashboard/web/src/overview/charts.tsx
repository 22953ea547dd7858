import type { MinuteBucket } from './stats';

interface Series {
  label: string;
  color: string;
  values: (number | null)[];
  kind: 'bar' | 'line';
}

const W = 320;
const H = 110;
const PAD = { l: 34, r: 6, t: 8, b: 18 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  const n = v / p;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * p;
}

/** A small hand-written SVG chart over 60 one-minute buckets (bars or lines, shared y axis). */
export function MiniChart({ buckets, series, format, max }: { buckets: MinuteBucket[]; series: Series[]; format: (v: number) => string; max?: number }) {
  const n = buckets.length;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== null));
  const top = max ?? niceMax(Math.max(0, ...all));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (i: number) => PAD.l + (i + 0.5) * (iw / n);
  const y = (v: number) => PAD.t + ih - (Math.min(v, top) / top) * ih;
  const bw = Math.max(1, iw / n - 1.5);
  // A line of zeros is data (0% errors); bars of zeros are not.
  const empty = all.length === 0 || (series.every((s) => s.kind === 'bar') && all.every((v) => v === 0));
  return (
    <div className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" preserveAspectRatio="none">
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(top * f)} y2={y(top * f)} className="grid" />
            <text x={PAD.l - 4} y={y(top * f) + 3} className="axis" textAnchor="end">
              {format(top * f)}
            </text>
          </g>
        ))}
        <text x={PAD.l} y={H - 4} className="axis">-60m</text>
        <text x={W - PAD.r} y={H - 4} className="axis" textAnchor="end">now</text>
        {series.map((s) =>
          s.kind === 'bar' ? (
            <g key={s.label} fill={s.color}>
              {s.values.map((v, i) =>
                v ? <rect key={i} x={x(i) - bw / 2} y={y(v)} width={bw} height={PAD.t + ih - y(v)} rx={1}><title>{`${new Date(buckets[i].t).toLocaleTimeString()}: ${format(v)}`}</title></rect> : null,
              )}
            </g>
          ) : (
            <g key={s.label}>
              <path d={linePath(s.values, x, y)} fill="none" stroke={s.color} strokeWidth={1.6} strokeLinejoin="round" />
              {s.values.map((v, i) => (v === null ? null : <circle key={i} cx={x(i)} cy={y(v)} r={1.6} fill={s.color}><title>{`${new Date(buckets[i].t).toLocaleTimeString()}: ${format(v)}`}</title></circle>))}
            </g>
          ),
        )}
        {empty && (
          <text x={PAD.l + iw / 2} y={PAD.t + ih / 2} className="axis" textAnchor="middle">
            no data in the last hour
          </text>
        )}
      </svg>
      {series.length > 1 && (
        <div className="legend">
          {series.map((s) => (
            <span key={s.label}>
              <i style={{ background: s.color }} /> {s.label}
            </span>
          ))}
        </div>
      )}
    </div>
  );
}

/** Line segments over the non-null points (gaps where a minute had no data). */
function linePath(values: (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  let d = '';
  let pen = false;
  values.forEach((v, i) => {
    if (v === null) {
      pen = false;
      return;
    }
    d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  return d;
}
