/**
 * The page's script (GET /password/page.js), served as a file of its own so the
 * Content-Security-Policy allows scripts from 'self' only, with no inline script. Plain
 * ES2019, no dependency, no third party: it reads the rules, checks as the user types, and
 * sends the change as a JSON body to the change-password route. Passwords live only in the
 * inputs and that one request body: never in a URL, storage, the history or the console.
 * (A template literal holding browser code: it must contain no backtick and no dollar-brace.)
 */
export const PAGE_SCRIPT = `'use strict';
(function () {
  var CHANGE_PATH = '20160918/changepassword';
  var RULES_PATH = 'password/rules';
  var MESSAGES = {
    401: 'The username or password is incorrect, or the account is locked. Check them and try again; after several failed attempts the account is locked for a while.',
    409: 'The new password may not be your current password or one you used recently. Choose another one.',
    412: 'Your temporary password has expired. Ask your help desk for a new one.',
    429: 'Too many attempts right now. Wait a minute, then try again.',
    other: 'Your password could not be changed because of a problem on our side. Try again later.',
    network: 'The server could not be reached. Check your connection and try again.',
    success: 'Your password has been changed. Sign in with your new password from now on.'
  };
  var CLASS_WORDS = { lower: 'a lowercase letter', upper: 'an uppercase letter', digit: 'a digit', special: 'a special character' };
  var LOWER = 'abcdefghijklmnopqrstuvwxyz';
  var UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  var DIGITS = '0123456789';

  var rules = null;
  var rulesRequest = 0;

  function el(id) { return document.getElementById(id); }

  function classOf(ch) {
    if (LOWER.indexOf(ch) >= 0) return 'lower';
    if (UPPER.indexOf(ch) >= 0) return 'upper';
    if (DIGITS.indexOf(ch) >= 0) return 'digit';
    if (rules && rules.specials.indexOf(ch) >= 0) return 'special';
    return null;
  }

  /** Each rule the page can check, with whether the password meets it. */
  function checks(password, username) {
    if (!rules) return [];
    var chars = Array.from(password);
    var present = {};
    var allowed = true;
    chars.forEach(function (ch) {
      var c = classOf(ch);
      if (c) present[c] = true;
      else if (!rules.otherCharacters || /[\\s\\p{C}]/u.test(ch)) allowed = false;
    });
    var list = [];
    list.push({ id: 'length', text: 'be ' + rules.minLength + ' to ' + rules.maxLength + ' characters long',
      met: chars.length >= rules.minLength && chars.length <= rules.maxLength });
    rules.requiredClasses.forEach(function (c) {
      list.push({ id: 'class-' + c, text: 'contain ' + CLASS_WORDS[c] + (c === 'special' ? ' (' + rules.specials + ')' : ''), met: !!present[c] });
    });
    if (rules.minClasses > rules.requiredClasses.length) {
      list.push({ id: 'class-count', text: 'combine at least ' + rules.minClasses + ' of: lowercase letters, uppercase letters, digits, special characters',
        met: Object.keys(present).length >= rules.minClasses });
    }
    list.push({ id: 'characters', text: rules.otherCharacters ? 'contain no spaces or control characters' : 'contain only letters, digits and ' + rules.specials, met: allowed && chars.length > 0 });
    if (rules.notUsername) {
      var u = username.toLowerCase();
      var reversed = Array.from(u).reverse().join('');
      var p = password.toLowerCase();
      list.push({ id: 'username', text: 'not contain your username', met: chars.length > 0 && (u.length < 3 || (p.indexOf(u) < 0 && p.indexOf(reversed) < 0)) });
    }
    if (rules.notCommon) list.push({ id: 'common', text: 'not be a common or previously breached password (checked when you submit)', met: null });
    if (rules.recentPasswords > 0) {
      list.push({ id: 'recent', text: 'not be your current password or one of your last ' + rules.recentPasswords + ' (checked when you submit)', met: null });
    } else {
      list.push({ id: 'recent', text: 'not be your current password (checked when you submit)', met: null });
    }
    return list;
  }

  function renderRules() {
    var list = el('rules');
    var items = checks(el('new-password').value, el('username').value);
    if (items.length === 0) return;
    var typed = el('new-password').value.length > 0;
    list.textContent = '';
    items.forEach(function (item) {
      var li = document.createElement('li');
      li.setAttribute('data-rule', item.id);
      li.textContent = item.text;
      if (typed && item.met !== null) {
        li.className = item.met ? 'met' : 'unmet';
        var state = document.createElement('span');
        state.className = 'visually-hidden';
        state.textContent = item.met ? ' (done)' : ' (not yet)';
        li.appendChild(state);
      }
      list.appendChild(li);
    });
  }

  function loadRules() {
    var tenancy = el('tenancy').value.trim();
    var ticket = ++rulesRequest;
    // In a header, never the URL: what is typed here may be a password in the wrong field,
    // and a URL reaches every proxy's and CDN's log.
    var headers = { accept: 'application/json' };
    if (tenancy) headers['x-rekey-tenancy'] = encodeURIComponent(tenancy);
    return fetch(RULES_PATH, { credentials: 'omit', cache: 'no-store', headers: headers })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        if (ticket !== rulesRequest || !body) return;
        rules = body;
        renderRules();
        document.documentElement.setAttribute('data-rules', 'loaded');
      })
      .catch(function () { /* the server still checks every rule */ });
  }

  function setFieldError(id, text) {
    var input = el(id);
    var note = el(id + '-error');
    if (text) {
      input.setAttribute('aria-invalid', 'true');
      note.textContent = text;
      note.hidden = false;
    } else {
      input.removeAttribute('aria-invalid');
      note.textContent = '';
      note.hidden = true;
    }
  }

  function clearMessages() {
    el('error').textContent = '';
    el('status').textContent = '';
  }

  /** The page's own checks; the first field in error gets the focus. */
  function validate() {
    var errors = [];
    var username = el('username').value.trim();
    var current = el('current-password').value;
    var next = el('new-password').value;
    var confirm = el('confirm-password').value;
    setFieldError('username', username ? '' : 'Enter your username.');
    if (!username) errors.push('username');
    setFieldError('current-password', current ? '' : 'Enter your temporary or current password.');
    if (!current) errors.push('current-password');
    var broken = checks(next, username).filter(function (c) { return c.met === false; });
    var newError = !next ? 'Enter a new password.' : broken.length ? 'The new password must ' + broken[0].text + '.' : '';
    setFieldError('new-password', newError);
    if (newError) errors.push('new-password');
    var confirmError = !confirm ? 'Enter the new password again.' : confirm !== next ? 'The two new passwords are not the same.' : '';
    setFieldError('confirm-password', confirmError);
    if (confirmError) errors.push('confirm-password');
    return errors;
  }

  function showError(text, focusId) {
    el('status').textContent = '';
    el('error').textContent = text;
    if (focusId) el(focusId).focus();
  }

  function clearFields(ids) {
    ids.forEach(function (id) { el(id).value = ''; });
  }

  function submit(event) {
    event.preventDefault();
    clearMessages();
    var errors = validate();
    if (errors.length) {
      showError('Please correct the ' + (errors.length === 1 ? 'field' : errors.length + ' fields') + ' marked below.', errors[0]);
      return;
    }
    var body = {
      username: el('username').value.trim(),
      currentPassword: el('current-password').value,
      newPassword: el('new-password').value
    };
    var tenancy = el('tenancy').value.trim();
    if (tenancy) body.tenancy = tenancy;
    var button = el('submit');
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    fetch(CHANGE_PATH, {
      method: 'PUT',
      credentials: 'omit',
      cache: 'no-store',
      referrerPolicy: 'no-referrer',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(body)
    })
      .then(function (res) {
        if (res.status === 200) return { status: 200 };
        return res.json().then(function (json) { return { status: res.status, json: json }; }, function () { return { status: res.status }; });
      })
      .then(answer, function () { showError(MESSAGES.network); })
      .then(function () {
        body = null;
        button.disabled = false;
        button.removeAttribute('aria-busy');
      });
  }

  function answer(result) {
    var status = result.status;
    if (status === 200) {
      clearFields(['tenancy', 'username', 'current-password', 'new-password', 'confirm-password']);
      el('show-passwords').checked = false;
      showPasswords(false);
      renderRules();
      el('error').textContent = '';
      el('status').textContent = MESSAGES.success;
      el('status').setAttribute('tabindex', '-1');
      el('status').focus();
      return;
    }
    if (status === 401) { clearFields(['current-password']); return showError(MESSAGES[401], 'current-password'); }
    if (status === 409) { clearFields(['new-password', 'confirm-password']); renderRules(); return showError(MESSAGES[409], 'new-password'); }
    if (status === 412) { clearFields(['current-password']); return showError(MESSAGES[412], 'current-password'); }
    if (status === 429) return showError(MESSAGES[429]);
    if (status === 400) {
      var said = result.json && typeof result.json.message === 'string' ? result.json.message : '';
      var aboutNew = /newPassword/.test(said);
      if (aboutNew) { clearFields(['new-password', 'confirm-password']); renderRules(); }
      return showError('The server refused the change: ' + (said || 'the request was not valid.'), aboutNew ? 'new-password' : undefined);
    }
    return showError(MESSAGES.other);
  }

  function showPasswords(on) {
    ['current-password', 'new-password', 'confirm-password'].forEach(function (id) {
      el(id).type = on ? 'text' : 'password';
    });
  }

  function prefill() {
    var query = new URLSearchParams(location.search);
    var tenancy = query.get('tenancy');
    var username = query.get('username');
    if (tenancy) el('tenancy').value = tenancy;
    if (username) el('username').value = username;
  }

  function start() {
    prefill();
    el('change').addEventListener('submit', submit);
    el('new-password').addEventListener('input', renderRules);
    el('username').addEventListener('input', renderRules);
    el('tenancy').addEventListener('change', loadRules);
    el('show-passwords').addEventListener('change', function () { showPasswords(el('show-passwords').checked); });
    loadRules().then(function () { document.documentElement.setAttribute('data-ready', 'true'); });
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
`;
