/* The /invite page's behaviour: check the code here, then ask /graphql (POST, JSON) and register.
 *
 * The token never goes into a URL sent to a server: it comes from the fragment or the code field
 * and travels only in the JSON body of POST /graphql. Everything from the server is written with
 * textContent or .value, never as markup.
 */
(() => {
  "use strict";

  // ---------------------------------------------------------------------------------------
  // Tokens: an exact port of domain/invitations/tokens.py (keep the two in step).

  const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"; // Crockford: no I, L, O, U
  const RANDOM_SYMBOLS = 14;
  const LENGTH = RANDOM_SYMBOLS + 1;
  const GROUP = 5;
  const VALUE = new Map(Array.from(ALPHABET, (symbol, index) => [symbol, index]));
  const IGNORED = /[ \-\t\r\n\u00a0\u2010\u2011\u2012\u2013\u2014_.]/g;

  // GF(32) built on the primitive polynomial x^5 + x^2 + 1.
  const EXP = new Array(62).fill(0);
  const LOG = new Array(32).fill(0);
  {
    let x = 1;
    for (let power = 0; power < 31; power += 1) {
      EXP[power] = x;
      LOG[x] = power;
      x <<= 1;
      if (x & 0b100000) {
        x ^= 0b100101;
      }
    }
    for (let power = 31; power < 62; power += 1) {
      EXP[power] = EXP[power - 31];
    }
  }

  const mul = (a, b) => (a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]);

  const weightedSum = (values) =>
    values.reduce((total, value, position) => total ^ mul(value, EXP[position]), 0);

  /** Upper case, spaces and dashes dropped, O read as 0 and I/L as 1. */
  const normalize = (raw) =>
    raw.replace(IGNORED, "").toUpperCase().replace(/O/g, "0").replace(/[IL]/g, "1");

  /** {token} in canonical form, or {problem: "malformed" | "check_failed"}. */
  const parse = (raw) => {
    // Python counts code points, not UTF-16 units.
    if (Array.from(raw).length > 64) {
      return { problem: "malformed" };
    }
    const token = normalize(raw);
    const symbols = Array.from(token);
    if (symbols.length !== LENGTH || !symbols.every((symbol) => VALUE.has(symbol))) {
      return { problem: "malformed" };
    }
    if (weightedSum(symbols.map((symbol) => VALUE.get(symbol))) !== 0) {
      return { problem: "check_failed" };
    }
    return { token };
  };

  const display = (token) => {
    const groups = [];
    for (let i = 0; i < token.length; i += GROUP) {
      groups.push(token.slice(i, i + GROUP));
    }
    return groups.join("-");
  };

  /**
   * The code box as typed so far, with a dash after every fifth symbol, and where the caret
   * goes: after as many symbols as were before it. Separators typed or pasted are dropped,
   * other characters kept (the check names a slip); case is left to the CSS.
   */
  const formatAsTyped = (raw, caret) => {
    const symbolsBefore = raw.slice(0, caret).replace(IGNORED, "").length;
    const symbols = raw.replace(IGNORED, "");
    let value = "";
    let position = 0;
    for (let i = 0; i < symbols.length; i += 1) {
      if (i > 0 && i % GROUP === 0) {
        value += "-";
      }
      value += symbols[i];
      if (i + 1 === symbolsBefore) {
        position = value.length;
      }
    }
    return { value, caret: position };
  };

  // The browser tests compare this port with the Python original.
  window.inviteToken = Object.freeze({ normalize, parse, display, formatAsTyped });

  // ---------------------------------------------------------------------------------------
  // GraphQL

  const BY_TOKEN = `query InvitationByToken($token: String!) {
  invitationByToken(token: $token) {
    valid
    invitation {
      email firstName lastName locale codeOnly
      requiredFields { key title type options { key title } }
    }
    errors { code message field retryAfter }
  }
}`;

  const ACCEPT = `mutation AcceptInvitation($input: AcceptInvitationInput!) {
  acceptInvitation(input: $input) {
    session { token }
    registration { token email }
    emailConfirmationSent
    errors { code message field retryAfter }
  }
}`;

  const SESSION_KEY = "invitations.sessionToken";
  // A letter's code gives a registration waiting for its address, not a session: its token
  // only confirms the address (with the mailed code).
  const REGISTRATION_KEY = "invitations.registrationToken";

  class Unreachable extends Error {}
  class ServerFailed extends Error {}

  const main = document.getElementById("main");
  const words = JSON.parse(main.dataset.words);

  const graphql = async (query, variables) => {
    let response;
    try {
      response = await fetch(main.dataset.graphql, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ query, variables }),
        credentials: "omit",
        cache: "no-store",
        referrerPolicy: "no-referrer",
      });
    } catch {
      throw new Unreachable();
    }
    if (!response.ok) {
      throw new ServerFailed();
    }
    const body = await response.json();
    if (body.errors && body.errors.length) {
      throw new ServerFailed();
    }
    return body.data;
  };

  // ---------------------------------------------------------------------------------------
  // The page

  const $ = (id) => document.getElementById(id);
  const steps = ["step-code", "step-unusable", "step-profile", "step-done"];
  const codeForm = $("code-form");
  const codeInput = $("code");
  const codeError = $("code-error");
  const codeStatus = $("code-status");
  const profileForm = $("profile-form");
  const profileStatus = $("profile-status");
  const profileProgress = $("profile-progress");
  const fieldset = $("registration-fields");

  let currentToken = null;
  let invitation = null;
  // errors[].field -> its input and the element its message goes in
  const fields = new Map(
    ["email", "firstName", "lastName", "password", "locale"].map((name) => [
      name,
      { input: $(name), error: $(`${name}-error`) },
    ]),
  );

  const fill = (template, values) =>
    template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

  const show = (step, focus) => {
    for (const id of steps) {
      $(id).hidden = id !== step;
    }
    if (focus) {
      focus.focus();
    }
  };

  // A plural message comes as its forms by CLDR category ("one", "other", ...).
  const plural = (forms, count) => {
    const category = new Intl.PluralRules(document.documentElement.lang).select(count);
    return fill(forms[category] || forms.other, { count });
  };

  const rateLimited = (retryAfter) =>
    plural(words.rate_limited, Math.max(1, Math.ceil((retryAfter || 60) / 60)));

  const failureMessage = (error) =>
    error instanceof Unreachable ? words.offline : words.failed;

  const setBusy = (form, busy) => {
    for (const button of form.querySelectorAll("button")) {
      button.disabled = busy;
    }
    form.setAttribute("aria-busy", busy ? "true" : "false");
  };

  // -- The code

  const codeProblem = (message) => {
    codeStatus.textContent = "";
    codeError.textContent = message;
    codeInput.setAttribute("aria-invalid", "true");
    show("step-code");
    codeInput.focus();
  };

  const clearCodeProblem = () => {
    codeError.textContent = "";
    codeInput.removeAttribute("aria-invalid");
  };

  const checkCode = async (raw) => {
    clearCodeProblem();
    if (!raw.trim()) {
      codeProblem(words.code_empty);
      return;
    }
    const parsed = parse(raw);
    if (parsed.problem) {
      codeProblem(words.check_code); // a typing slip: the server is not asked
      return;
    }
    codeStatus.textContent = words.checking;
    setBusy(codeForm, true);
    let answer;
    try {
      answer = (await graphql(BY_TOKEN, { token: parsed.token })).invitationByToken;
    } catch (error) {
      codeProblem(failureMessage(error));
      return;
    } finally {
      setBusy(codeForm, false);
    }
    codeStatus.textContent = "";
    if (answer.valid) {
      currentToken = parsed.token;
      if (!speakInvitationLanguage(answer.invitation.locale)) {
        startProfile(answer.invitation);
      }
      return;
    }
    const [first] = answer.errors;
    if (first && first.code === "RATE_LIMITED") {
      codeProblem(rateLimited(first.retryAfter));
    } else if (first && first.code === "TOKEN_CHECK_FAILED") {
      codeProblem(words.check_code);
    } else {
      showUnusable();
    }
  };

  /**
   * The invitation's language wins over the browser's: reload the page in it, the token in
   * the fragment, unless the reader picked a language with the switch (?lang=). True when
   * the page is being reloaded.
   */
  const speakInvitationLanguage = (locale) => {
    const params = new URLSearchParams(window.location.search);
    const wanted = String(locale || "").toLowerCase();
    const offered = Array.from(document.querySelectorAll("a[data-locale-link]"), (link) =>
      link.getAttribute("hreflang"),
    );
    const match = offered.find((code) => code.toLowerCase() === wanted);
    if (params.has("lang") || !match || wanted === document.documentElement.lang.toLowerCase()) {
      return false;
    }
    params.set("lang", match);
    const token = new URLSearchParams({ token: display(currentToken) });
    window.location.replace(`${window.location.pathname}?${params}#${token}`);
    return true;
  };

  const showUnusable = () => {
    show("step-unusable", $("unusable-title"));
  };

  const tokenInFragment = () => {
    const hash = window.location.hash.replace(/^#/, "");
    return hash ? new URLSearchParams(hash).get("token") : null;
  };

  const forgetFragment = () => {
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
  };

  // -- The profile

  const element = (tag, attributes = {}, text = null) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      node.setAttribute(name, value);
    }
    if (text !== null) {
      node.textContent = text;
    }
    return node;
  };

  /**
   * A registration field's (or option's) title in the page's language: its title for this
   * locale, else for the same language, else its plain title. Per-locale titles
   * (`titleMultiloc`: {"nl-BE": "...", ...}) are being added to registration fields; once
   * the API has them, ask for them in BY_TOKEN and they show here.
   */
  const titleOf = (item) => {
    const titles = item.titleMultiloc || {};
    const lang = document.documentElement.lang.toLowerCase();
    const entries = Object.entries(titles).filter(([, title]) => title);
    const exact = entries.find(([locale]) => locale.toLowerCase() === lang);
    const sameLanguage = entries.find(
      ([locale]) => locale.toLowerCase().split("-")[0] === lang.split("-")[0],
    );
    return (exact || sameLanguage || [null, item.title])[1];
  };
  window.invitePage = Object.freeze({ titleOf });

  const requiredLabel = (forId, title) => {
    const label = element("label", { for: forId }, `${title} `);
    label.append(element("span", { "aria-hidden": "true" }, "*"));
    return label;
  };

  const registrationField = (field) => {
    const id = `field-${field.key}`;
    const wrapper = element("div", { class: "field" });
    const error = element("p", { id: `${id}-error`, class: "field-error", "aria-live": "polite" });
    let input;
    if (field.type === "CHECKBOX") {
      wrapper.classList.add("check");
      input = element("input", { type: "checkbox", id, name: field.key });
      wrapper.append(input, requiredLabel(id, titleOf(field)), error);
    } else if (field.type === "SELECT") {
      input = element("select", { id, name: field.key });
      input.append(element("option", { value: "" }, words.choose));
      for (const option of field.options) {
        input.append(element("option", { value: option.key }, titleOf(option)));
      }
      wrapper.append(requiredLabel(id, titleOf(field)), input, error);
    } else {
      const attributes = { id, name: field.key, type: "text" };
      if (field.type === "DATE") {
        attributes.type = "date";
      } else if (field.type === "NUMBER") {
        // Text with a decimal keypad: "12,5" is a number where this platform is used.
        attributes.inputmode = "decimal";
      } else {
        attributes.maxlength = "1000";
      }
      input = element("input", attributes);
      wrapper.append(requiredLabel(id, titleOf(field)), input, error);
    }
    input.required = true;
    input.setAttribute("aria-describedby", error.id);
    fields.set(`registrationFields.${field.key}`, { input, error, type: field.type, key: field.key });
    return wrapper;
  };

  const startProfile = (preview) => {
    invitation = preview;
    clearProfileErrors();
    const email = $("email");
    email.value = preview.email || "";
    email.readOnly = !preview.codeOnly;
    $("email-fixed").hidden = preview.codeOnly;
    $("email-hint").hidden = !preview.codeOnly;
    email.setAttribute(
      "aria-describedby",
      `${preview.codeOnly ? "email-hint" : "email-fixed"} email-error`,
    );
    $("firstName").value = preview.firstName;
    $("lastName").value = preview.lastName;
    const locale = $("locale");
    if (Array.from(locale.options).some((option) => option.value === preview.locale)) {
      locale.value = preview.locale;
    }
    for (const key of Array.from(fields.keys())) {
      if (key.startsWith("registrationFields.")) {
        fields.delete(key);
      }
    }
    for (const node of Array.from(fieldset.children)) {
      if (node.tagName !== "LEGEND") {
        node.remove();
      }
    }
    for (const field of preview.requiredFields) {
      fieldset.append(registrationField(field));
    }
    fieldset.hidden = preview.requiredFields.length === 0;
    show("step-profile", $("profile-title"));
  };

  const clearProfileErrors = () => {
    profileStatus.textContent = "";
    for (const { input, error } of fields.values()) {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    }
  };

  const messageFor = (error, target) => {
    switch (error.code) {
      case "INVALID_EMAIL":
        return words.invalid_email;
      case "REQUIRED_FIELD_MISSING":
        return words.required;
      case "ALREADY_REGISTERED":
        return words.already_registered;
      case "RATE_LIMITED":
        return rateLimited(error.retryAfter);
      case "INVALID_NAME":
        return target && !target.input.value.trim() ? words.fill_in : error.message;
      case "WEAK_PASSWORD":
        // The server says exactly why, in English only (its password checker knows no other
        // language): the page's own words in the others.
        return document.documentElement.lang.toLowerCase().startsWith("en")
          ? error.message
          : words.weak_password;
      default:
        // Field values: the server's message says exactly why.
        return error.message;
    }
  };

  const showProfileErrors = (errors) => {
    const general = [];
    let firstInvalid = null;
    for (const error of errors) {
      const target = error.field ? fields.get(error.field) : undefined;
      const message = messageFor(error, target);
      if (target) {
        const existing = target.error.textContent;
        target.error.textContent = existing ? `${existing} ${message}` : message;
        target.input.setAttribute("aria-invalid", "true");
        firstInvalid = firstInvalid || target.input;
      } else {
        general.push(message);
      }
    }
    const summary = firstInvalid ? [words.errors_summary] : [];
    profileStatus.textContent = [...general, ...summary].join(" ");
    (firstInvalid || $("profile-title")).focus();
  };

  const fieldValue = ({ input, type }) => {
    if (type === "CHECKBOX") {
      return input.checked ? "true" : "false";
    }
    // As a JSON string: the server reads bare JSON literals as numbers or booleans.
    return JSON.stringify(input.value.trim());
  };

  const accept = async () => {
    clearProfileErrors();
    const input = {
      token: currentToken,
      firstName: $("firstName").value,
      lastName: $("lastName").value,
      password: $("password").value,
      locale: $("locale").value,
      registrationFieldValues: Array.from(fields.values())
        .filter((field) => field.key)
        .map((field) => ({ key: field.key, value: fieldValue(field) })),
    };
    if (invitation.codeOnly) {
      input.email = $("email").value.trim();
    }
    profileProgress.textContent = words.submitting;
    setBusy(profileForm, true);
    let answer;
    try {
      answer = (await graphql(ACCEPT, { input })).acceptInvitation;
    } catch (error) {
      profileProgress.textContent = "";
      profileStatus.textContent = failureMessage(error);
      return;
    } finally {
      setBusy(profileForm, false);
    }
    profileProgress.textContent = "";
    if (answer.errors.some((error) => error.code === "INVALID_TOKEN")) {
      showUnusable();
      return;
    }
    if (answer.errors.length || !(answer.session || answer.registration)) {
      showProfileErrors(answer.errors);
      return;
    }
    finish(answer, input.email || invitation.email, input.locale);
  };

  const finish = (answer, email, locale) => {
    try {
      if (answer.session) {
        window.sessionStorage.setItem(SESSION_KEY, answer.session.token);
      } else {
        window.sessionStorage.setItem(REGISTRATION_KEY, answer.registration.token);
      }
    } catch {
      // Storage refused (private mode): the link to the platform still leads on.
    }
    $("password").value = "";
    forgetFragment(); // the token is used up: nothing to come back to
    currentToken = null;
    const next = $("done-next");
    if ("landing" in next.dataset) {
      const landing = new URL(next.href);
      landing.searchParams.set("lang", locale);
      next.href = landing.href;
    }
    const confirm = $("done-confirm");
    confirm.hidden = !answer.emailConfirmationSent;
    confirm.textContent = answer.emailConfirmationSent ? fill(words.done_confirm, { email }) : "";
    show("step-done", $("done-title"));
  };

  // ---------------------------------------------------------------------------------------
  // Wiring

  codeForm.addEventListener("submit", (event) => {
    event.preventDefault();
    checkCode(codeInput.value);
  });

  // Dashes appear as the code is typed or pasted, and the caret stays where it was.
  let codeBefore = "";
  codeInput.addEventListener("input", (event) => {
    if (event.isComposing) {
      return;
    }
    let raw = codeInput.value;
    let caret = codeInput.selectionStart ?? raw.length;
    const symbolCount = (text) => text.replace(IGNORED, "").length;
    if (
      event.inputType === "deleteContentBackward" &&
      symbolCount(raw) === symbolCount(codeBefore) &&
      caret > 0
    ) {
      // Backspace took only a dash we had put there: take the symbol before it too.
      raw = raw.slice(0, caret - 1) + raw.slice(caret);
      caret -= 1;
    }
    const formatted = formatAsTyped(raw, caret);
    if (formatted.value !== codeInput.value) {
      codeInput.value = formatted.value;
      codeInput.setSelectionRange(formatted.caret, formatted.caret);
    }
    codeBefore = codeInput.value;
  });

  profileForm.addEventListener("submit", (event) => {
    event.preventDefault();
    accept();
  });

  $("password-show").addEventListener("change", (event) => {
    $("password").type = event.target.checked ? "text" : "password";
  });

  $("try-other").addEventListener("click", () => {
    forgetFragment();
    currentToken = null;
    codeInput.value = "";
    clearCodeProblem();
    show("step-code", codeInput);
  });

  // The switch reloads the page in another language: carry the fragment (the token) along.
  for (const link of document.querySelectorAll("a[data-locale-link]")) {
    link.addEventListener("click", (event) => {
      if (window.location.hash) {
        event.preventDefault();
        window.location.assign(link.getAttribute("href") + window.location.hash);
      }
    });
  }

  const fromFragment = () => {
    const token = tokenInFragment();
    if (token) {
      codeInput.value = token;
      checkCode(token);
    }
  };

  window.addEventListener("hashchange", fromFragment);
  fromFragment();
})();
