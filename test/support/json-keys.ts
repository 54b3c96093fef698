// The keys a JSON text repeats within one object. JSON.parse keeps the last of two equal keys without a
// word, so a check for duplicates must read the raw text.

/** `path.key` for each key that appears twice in the same object ('' for the top level). */
export function duplicateKeys(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const skipSpace = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const readString = (): string => {
    const start = i;
    i++; // the opening quote
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error(`unterminated string at ${start}`);
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const readValue = (path: string): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      skipSpace();
      while (text[i] !== '}') {
        if (text[i] === ',') i++;
        skipSpace();
        const key = readString();
        if (seen.has(key)) found.push(path ? `${path}.${key}` : key);
        seen.add(key);
        skipSpace();
        i++; // the colon
        readValue(path ? `${path}.${key}` : key);
        skipSpace();
      }
      i++;
    } else if (c === '[') {
      i++;
      skipSpace();
      while (text[i] !== ']') {
        if (text[i] === ',') i++;
        readValue(`${path}[]`);
        skipSpace();
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      const m = /^[^,}\]\s]+/.exec(text.slice(i));
      if (!m) throw new Error(`no JSON value at ${i}`);
      i += m[0].length;
    }
  };
  JSON.parse(text); // refuses what is not JSON at all, with its own message
  readValue('');
  return found;
}
