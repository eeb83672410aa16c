/**
 * The end user's page (GET /password): static HTML, no inline script or style, so the
 * Content-Security-Policy can forbid both. Every URL in it is relative, so the page works
 * under an API Gateway stage path as well as at the root. The password inputs have no
 * `name`: even a submit without the script (blocked, or not yet loaded) can put no password
 * in a URL.
 */
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Change your password</title>
<link rel="stylesheet" href="password/page.css">
<script src="password/page.js" defer></script>
</head>
<body>
<main>
<h1>Change your password</h1>
<p>Sign in with the temporary password you were sent, or your current one, and choose a new password of your own.</p>
<form id="change" method="post" action="password" novalidate>
<div class="field">
<label for="tenancy">Directory <span class="optional">(optional)</span></label>
<p class="hint" id="tenancy-hint">Only if your help desk gave you one, or your username exists in more than one directory.</p>
<input id="tenancy" type="text" autocomplete="organization" autocapitalize="none" spellcheck="false" aria-describedby="tenancy-hint">
</div>
<div class="field">
<label for="username">Username</label>
<input id="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required aria-describedby="username-error">
<p class="field-error" id="username-error" hidden></p>
</div>
<div class="field">
<label for="current-password">Temporary or current password</label>
<input id="current-password" type="password" autocomplete="current-password" autocapitalize="none" spellcheck="false" required aria-describedby="current-password-error">
<p class="field-error" id="current-password-error" hidden></p>
</div>
<div class="field">
<label for="new-password">New password</label>
<input id="new-password" type="password" autocomplete="new-password" autocapitalize="none" spellcheck="false" required aria-describedby="rules-heading new-password-error">
<p class="field-error" id="new-password-error" hidden></p>
</div>
<section class="rules" aria-labelledby="rules-heading">
<h2 id="rules-heading">Your new password must</h2>
<ul id="rules"><li>be checked by the server (the rules could not be loaded)</li></ul>
</section>
<div class="field">
<label for="confirm-password">New password again</label>
<input id="confirm-password" type="password" autocomplete="new-password" autocapitalize="none" spellcheck="false" required aria-describedby="confirm-password-error">
<p class="field-error" id="confirm-password-error" hidden></p>
</div>
<div class="field check">
<input id="show-passwords" type="checkbox" aria-controls="current-password new-password confirm-password">
<label for="show-passwords">Show passwords</label>
</div>
<div id="error" class="message error" role="alert" aria-atomic="true"></div>
<div id="status" class="message success" role="status" aria-live="polite" aria-atomic="true"></div>
<button id="submit" type="submit">Change password</button>
</form>
</main>
</body>
</html>
`;

/**
 * The page's style: system fonts only, sizes in rem so text zoom scales everything, one
 * column that fits 320 CSS pixels (WCAG 1.4.10 reflow), contrast above 4.5:1.
 */
export const PAGE_CSS = `*,*::before,*::after{box-sizing:border-box}
html{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;font-size:100%;line-height:1.5;color:#1a1a1a;background:#f4f5f7}
body{margin:0;padding:1rem;overflow-wrap:break-word}
main{max-width:34rem;margin:0 auto;background:#fff;border:1px solid #c8ccd2;border-radius:.5rem;padding:1.25rem}
h1{font-size:1.5rem;margin:0 0 .5rem}
h2{font-size:1rem;margin:0 0 .25rem}
p{margin:0 0 1rem}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
.optional,.hint{font-weight:400;color:#4a4f57}
.hint{font-size:.875rem;margin:0 0 .25rem}
input[type=text],input[type=password]{display:block;width:100%;max-width:100%;font:inherit;padding:.5rem .625rem;border:1px solid #6b7079;border-radius:.25rem;background:#fff;color:#1a1a1a}
input[aria-invalid=true]{border-color:#b3261e;border-width:2px}
input:focus,button:focus{outline:3px solid #1756c4;outline-offset:2px}
.check{display:flex;align-items:center;gap:.5rem}
.check label{display:inline;margin:0;font-weight:400}
.check input{width:1.25rem;height:1.25rem;margin:0}
.rules{margin:0 0 1rem;padding:.75rem;background:#f4f5f7;border-radius:.25rem}
.rules ul{margin:0;padding-left:1.25rem}
.rules li{overflow-wrap:anywhere}
.rules li.met{color:#1d6b2f}
.rules li.met::marker{content:"\\2713  "}
.rules li.unmet{color:#8c1d18}
.rules li.unmet::marker{content:"\\2717  "}
.field-error{color:#b3261e;font-size:.875rem;margin:.25rem 0 0}
.message:empty{display:none}
.message{padding:.75rem;border-radius:.25rem;margin:0 0 1rem;overflow-wrap:anywhere}
.error{background:#fdecea;color:#8c1d18;border:1px solid #b3261e}
.success{background:#e7f4ea;color:#1d6b2f;border:1px solid #1d6b2f}
button{font:inherit;font-weight:600;padding:.625rem 1.25rem;border:0;border-radius:.25rem;background:#1756c4;color:#fff;cursor:pointer;max-width:100%}
button[disabled]{background:#5d6b85;cursor:progress}
@media (max-width:30em){body{padding:0}main{border:0;border-radius:0;padding:.75rem}h1{font-size:1.25rem}}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
`;
