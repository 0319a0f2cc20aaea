/** A live line chart drawn as SVG: values 0-100 over time, newest on the right. */
export function LineChart(props: {
  values: number[];
  label: string;
  max?: number;
  color?: string;
  points?: number;
}) {
  const width = 300;
  const height = 80;
  const max = props.max ?? 100;
  // The x axis grows with the data (at least 30 samples wide, at most `points`), so a freshly
  // opened dashboard shows a short line instead of two dots at the right edge.
  const limit = props.points ?? 300;
  const values = props.values.slice(-limit);
  const count = Math.max(30, values.length);
  const step = width / Math.max(1, count - 1);
  const offset = count - values.length;
  const coords = values.map((value, index) => {
    const x = (offset + index) * step;
    const y = height - (Math.min(max, Math.max(0, value)) / max) * (height - 4) - 2;
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line = coords.join(' ');
  const area = coords.length > 1 ? `${coords[0]!.split(',')[0]},${height} ${line} ${width},${height}` : '';
  return (
    <svg
      class="chart"
      viewBox={`0 0 ${width} ${height}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={props.label}
      data-points={values.length}
    >
      <line x1="0" y1={height / 2} x2={width} y2={height / 2} class="chart-grid" />
      {area !== '' && (
        <polygon
          points={area}
          class="chart-area"
          style={props.color === undefined ? undefined : { fill: props.color }}
        />
      )}
      {coords.length > 1 && (
        <polyline
          points={line}
          class="chart-line"
          style={props.color === undefined ? undefined : { stroke: props.color }}
        />
      )}
    </svg>
  );
}

/** A horizontal progress bar with an accessible value. */
export function ProgressBar(props: { value: number; max: number; label: string }) {
  const percent = props.max > 0 ? Math.min(100, Math.round((props.value / props.max) * 100)) : 0;
  return (
    <div
      class="progress"
      role="progressbar"
      aria-label={props.label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent}
    >
      <div class="progress-fill" style={{ width: `${percent}%` }} />
      <span class="progress-text">{percent}%</span>
    </div>
  );
}
