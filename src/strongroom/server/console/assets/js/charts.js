// Small SVG pictures, built node by node like the rest of the page (no markup strings).
const SVG = "http://www.w3.org/2000/svg";

function s(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  if (text !== undefined) el.textContent = text;
  return el;
}

const STATE_COLOURS = { live: "#1e7b3c", deleted: "#9a6700", destroyed: "#b3261e" };

// A secret's versions in order: one dot per version, coloured by state, labels above.
export function versionTimeline(versions, labels) {
  const width = 720;
  const height = 90;
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Version timeline", class: "timeline" });
  if (!versions.length) return svg;
  // Evenly spaced in order: versions written seconds apart stay apart; the time is in each
  // dot's tooltip.
  const step = versions.length > 1 ? (width - 60) / (versions.length - 1) : 0;
  const x = (i) => (versions.length > 1 ? 30 + i * step : width / 2);
  svg.append(s("line", { x1: 30, y1: 50, x2: width - 30, y2: 50, stroke: "#d9dde5", "stroke-width": 2 }));
  const byVersion = {};
  for (const [label, version] of Object.entries(labels || {})) (byVersion[version] ||= []).push(label);
  versions.forEach((version, i) => {
    const cx = x(i);
    const dot = s("circle", { cx, cy: 50, r: 7, fill: STATE_COLOURS[version.state] || "#6b7385", "data-version": version.version });
    dot.append(s("title", {}, `v${version.version} ${version.state} ${version.created_time}`));
    svg.append(dot, s("text", { x: cx, y: 75, "text-anchor": "middle" }, `v${version.version}`));
    if (byVersion[version.version]) {
      svg.append(s("text", { x: cx, y: 30, "text-anchor": "middle" }, byVersion[version.version].join(", ")));
    }
  });
  return svg;
}

// A namespace's key terms as bars: how many versions each term still protects.
export function termBars(terms) {
  const width = 720;
  const row = 26;
  const height = terms.length * row + 10;
  const svg = s("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": "Key terms", class: "terms" });
  const most = Math.max(1, ...terms.map((t) => t.versions_in_use));
  terms.forEach((term, i) => {
    const y = 5 + i * row;
    const length = (term.versions_in_use / most) * (width - 260);
    svg.append(
      s("text", { x: 0, y: y + 15 }, `term ${term.term}${term.active ? " (active)" : ""}`),
      s("rect", { x: 110, y, width: Math.max(length, 1), height: row - 8, fill: term.active ? "#2456c8" : "#9aa6c0" }),
      s("text", { x: 118 + length, y: y + 15 }, `${term.versions_in_use} versions, ${term.encryptions} encryptions`),
    );
  });
  return svg;
}
