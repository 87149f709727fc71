// Reading a caught mail's plain-text part, so the demo can quote what the heads were told.

function decode(body: string, encoding: string): string {
  const e = encoding.toLowerCase();
  if (e === 'base64') return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (e !== 'quoted-printable') return body;
  const joined = body.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? /^[0-9A-F]{2}$/i.exec(joined.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The text/plain part of a raw RFC 5322 message (the whole body when it is not multipart). */
export function plainTextOf(raw: string): string {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  if (!boundary) return decode(body, /^content-transfer-encoding:\s*(\S+)/im.exec(head)?.[1] ?? '7bit');
  for (const part of body.split(`--${boundary}`)) {
    const at = part.search(/\r?\n\r?\n/);
    if (at < 0) continue;
    const partHead = part.slice(0, at).replace(/\r?\n[ \t]+/g, ' ');
    if (!/^content-type:\s*text\/plain/im.test(partHead.trim())) continue;
    return decode(part.slice(at).replace(/^\r?\n\r?\n/, ''), /^content-transfer-encoding:\s*(\S+)/im.exec(partHead.trim())?.[1] ?? '7bit');
  }
  return '';
}

/** One line that says what a mail is about: who holds the chain up, or its headline. */
export function gistOf(raw: string): string {
  const lines = plainTextOf(raw)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  return (lines.find((l) => l.startsWith('Holding it up:')) ?? lines[0] ?? '').replace(/\s*\([0-9a-f-]{36}\)/gi, '');
}
