/**
 * Links to the end user's page (`GET /password`, functions/password-page/) in the page's own
 * words: `?tenancy=<realm name>&username=<username>` prefill its form. Never a password.
 */

/** A linker for the page at `pageUrl` (REKEY_PASSWORD_PAGE_URL), or undefined when none is configured. */
export function passwordPageLinker(
  pageUrl: string | undefined,
): ((realm: { name: string }, user: { username: string }) => string) | undefined {
  if (!pageUrl) return undefined;
  const base = new URL(pageUrl);
  return (realm, user) => {
    const link = new URL(base);
    link.searchParams.set('tenancy', realm.name);
    link.searchParams.set('username', user.username);
    // No fragment: the page reads none, and a URL keeps a `\\` there as it is, which a ticket's
    // note (filled into JSON without escaping, as EventBridge does) could not hold.
    link.hash = '';
    return link.toString();
  };
}
