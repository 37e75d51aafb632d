// Warnings for template text written in another tool's syntax. It parses as
// a musefs template (braces and percent signs are literal text), so the mount
// would show folders named "{artist}" or "%artist%"; name the musefs form.
// Warnings only: such text may be meant literally.

interface Rule {
  pattern: RegExp;
  message: (match: RegExpExecArray) => string;
}

const RULES: readonly Rule[] = [
  {
    // beets functions: %aunique{}, %if{…}, %upper{…}
    pattern: /%([A-Za-z_]+)\{[^}]*\}/g,
    message: (m) =>
      m[1] === "aunique"
        ? `"${m[0]}" is beets' %aunique{}; musefs has no template functions, and it ` +
          `disambiguates colliding names itself with a " (2)" suffix`
        : `"${m[0]}" looks like a beets template function; musefs has none: use \${a|b} ` +
          "fallbacks and [...] sections (docs/templates.md)",
  },
  {
    // foobar2000 / Picard fields: %artist%
    pattern: /%([A-Za-z_][A-Za-z0-9_ ]*)%/g,
    message: (m) =>
      `"${m[0]}" looks like foobar2000/Picard syntax; musefs writes $${fieldName(m[1])}`,
  },
  {
    // Picard / foobar2000 functions: $if(…), $upper(…)
    pattern: /\$([A-Za-z_]+)\(/g,
    message: (m) =>
      `"${m[0]}" looks like a Picard/foobar2000 function; musefs has no template functions ` +
      `("$${m[1].toLowerCase()}" is read as a field followed by "("): use \${a|b} fallbacks and ` +
      "[...] sections (docs/templates.md)",
  },
  {
    // Python/str.format-style braces without musefs' "$": {artist}
    pattern: /(?<![$!])\{([A-Za-z_][A-Za-z0-9_]*)(:[^}]*)?\}/g,
    message: (m) => {
      const name = fieldName(m[1]);
      const musefs = m[2] === undefined ? `$${name} or \${${name}}` : `\${${name}${m[2]}}`;
      return `"${m[0]}" is literal text in a musefs template; for the field write ${musefs}`;
    },
  },
];

function fieldName(raw: string): string {
  return raw.trim().toLowerCase().replace(/\s+/g, "");
}

/** One warning per distinct suspicious piece of `template`, in order of appearance. */
export function templateWarnings(template: string): string[] {
  const found: Array<[index: number, length: number, text: string]> = [];
  const seen = new Set<string>();
  for (const rule of RULES) {
    for (const m of template.matchAll(rule.pattern)) {
      if (seen.has(m[0])) continue;
      // A piece inside one already reported (the "{…}" of "%aunique{…}") adds nothing.
      if (found.some(([i, n]) => m.index! >= i && m.index! < i + n)) continue;
      seen.add(m[0]);
      found.push([m.index!, m[0].length, rule.message(m as RegExpExecArray)]);
    }
  }
  return found.sort((a, b) => a[0] - b[0]).map(([, , text]) => `warning: --template: ${text}`);
}
