// The page's requests as curl commands a developer can paste into a POSIX shell. The API key is never written out:
// the command reads it from $DIFFUSION_API_KEY.

/** The file a body with images is written to (see curlForSubmit). */
export const BODY_FILE = 'request.json';

/**
 * POST of bodyText. A body with images (base64, often megabytes) is written to request.json by a quoted heredoc and
 * sent from there: Linux refuses a single command-line argument over 128 KiB, so --data-raw cannot carry it. The
 * heredoc copies the body unchanged (its quoted delimiter expands nothing; JSON.stringify writes one line, so no line
 * can end it early) and adds the final newline every heredoc has, which JSON ignores.
 */
export function curlForSubmit(url, bodyText, withKey, viaFile = false) {
  const parts = [`curl -sS -X POST ${quote(url)}`, `-H 'Content-Type: application/json'`];
  if (withKey) parts.push('-H "Authorization: Bearer $DIFFUSION_API_KEY"');
  if (!viaFile) {
    parts.push(`--data-raw ${quote(bodyText)}`);
    return parts.join(' \\\n  ');
  }
  parts.push(`--data-binary @${BODY_FILE}`);
  return `# Images make the body too long for an argument: it goes to ${BODY_FILE} first.\n` +
    `cat > ${BODY_FILE} <<'EOF'\n${bodyText}\nEOF\n${parts.join(' \\\n  ')}`;
}

export function curlForEvents(url, withKey) {
  const key = withKey ? ' -H "Authorization: Bearer $DIFFUSION_API_KEY"' : '';
  return `curl -sS -N${key} ${quote(url)}`;
}

function quote(text) {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
