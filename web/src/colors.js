// Colour scales shared by the graph and the panels.

function mix(a, b, t) {
  const u = Math.max(0, Math.min(1, t));
  const c = a.map((x, i) => Math.round(x + (b[i] - x) * u));
  return `#${c.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
}

const RED = [214, 69, 69];
const GREY = [150, 158, 168];
const GREEN = [58, 187, 98];

/** Red (-1) through grey (0) to green (+1): a character's mood pleasure. */
export function moodColor(p) {
  return p < 0 ? mix(GREY, RED, -p) : mix(GREY, GREEN, p);
}

/** Red (hostile) through dim grey to green (warm): a bond's affinity. */
export function affinityColor(a) {
  const DIM = [90, 98, 110];
  return a < 0 ? mix(DIM, RED, -a * 1.3) : mix(DIM, GREEN, a * 1.3);
}

const PALETTE = ['#f5a524', '#4ea1ff', '#c86bfa', '#2ec4b6', '#ff6b9a', '#b5e550', '#ffd166', '#7f8cff'];

/** A stable colour per alliance id. */
export function groupColor(id) {
  return PALETTE[((id % PALETTE.length) + PALETTE.length) % PALETTE.length];
}

/** Series colours for charts. */
export const SERIES = ['#4ea1ff', '#f5a524', '#3abb62', '#ff6b9a', '#c86bfa', '#2ec4b6', '#ffd166', '#d64545'];
