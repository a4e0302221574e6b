/* What the residents' pages share: their words, GraphQL over POST, the session cookie, the
 * registration waiting for its address, and forms that show errors beside their fields.
 *
 * Everything from the server is written with textContent or .value, never as markup.
 */

export const $ = (id) => document.getElementById(id);

const main = $("main");
const words = JSON.parse(main.dataset.words || "{}");
const ROOT = main.dataset.root || "";

// ---------------------------------------------------------------------------------------------
// Words

/** What every request of these pages asks of its errors: `reason` and `details` say exactly
 * what is wrong where a code covers several things (messageFor words them). */
export const ERRORS = "errors { code message field retryAfter reason details { name value } }";

export const fill = (template, values = {}) =>
  template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));

/** A message of the page's catalog (api/invite.py sends the ones a page's scripts show). */
export const t = (key, values) => {
  const text = words[key];
  if (typeof text !== "string") {
    throw new Error(`no words for ${key}`);
  }
  return fill(text, values);
};

/** A plural message: its forms come by CLDR category ("one", "other", ...). */
export const plural = (key, count, values = {}) => {
  const forms = words[key];
  const category = new Intl.PluralRules(document.documentElement.lang).select(count);
  return fill(forms[category] || forms.other, { ...values, count });
};

/** "Wait 3 minutes" or, from an hour on, "Wait 1 hour". */
export const waitWords = (retryAfter) => {
  const minutes = Math.max(1, Math.ceil((retryAfter || 60) / 60));
  return minutes < 60
    ? plural("invite.rate_limited", minutes)
    : plural("page.rate_limited_hours", Math.ceil(minutes / 60));
};

export const pageLanguage = () => document.documentElement.lang;

// ---------------------------------------------------------------------------------------------
// The server

export class Unreachable extends Error {}
export class ServerFailed extends Error {}

const post = async (url, body, headers = {}) => {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      // The header tells the server this comes from its own pages: only such requests may
      // use the session cookie (api/resident_session.py).
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-Resident-Page": "1",
        ...headers,
      },
      body: JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new Unreachable();
  }
  if (!response.ok) {
    throw new ServerFailed();
  }
  return response.json();
};

/**
 * Ask /graphql. The session cookie goes along; `bearer` sends a registration's token instead
 * (it authenticates only the confirmation step).
 */
export const graphql = async (query, variables, { bearer } = {}) => {
  const headers = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  const body = await post(main.dataset.graphql, { query, variables }, headers);
  if (body.errors && body.errors.length) {
    throw new ServerFailed();
  }
  return body.data;
};

/** Keep a session the page was just given in the HttpOnly cookie, and no copy of it here. */
export const keepSession = (token) => post(`${ROOT}/account/session`, { token });

export const endSession = () => post(`${ROOT}/account/sign-out`, {});

export const failureMessage = (error) =>
  error instanceof Unreachable ? t("invite.offline") : t("invite.failed");

/**
 * Where a finished journey leads: the host platform, or this service's landing page in the
 * account's language.
 */
export const landingUrl = (locale) => {
  const url = new URL(main.dataset.landing, window.location.href);
  if (url.origin === window.location.origin && locale) {
    url.searchParams.set("lang", locale);
  }
  return url.href;
};

/** The page again in another language (the reader did not pick one with the switch). */
export const reloadIn = (locale, hash = "") => {
  const params = new URLSearchParams(window.location.search);
  if (params.has("lang") || !locale || locale.toLowerCase() === pageLanguage().toLowerCase()) {
    return false;
  }
  const offered = Array.from(document.querySelectorAll("a[data-locale-link]"), (link) =>
    link.getAttribute("hreflang"),
  );
  const match = offered.find((code) => code.toLowerCase() === locale.toLowerCase());
  if (!match) {
    return false;
  }
  params.set("lang", match);
  window.location.replace(`${window.location.pathname}?${params}${hash}`);
  return true;
};

// ---------------------------------------------------------------------------------------------
// A registration waiting for its address (a letter's code or a sign-up): its token confirms
// the address with the mailed code. Kept in localStorage so that the mail's link, opened in
// another tab, finds it; forgotten once used or expired. It is no session: see
// docs/security.md.

const REGISTRATION_KEY = "invitations.registration";

export const registration = {
  save({ token, email, expiresAt }) {
    try {
      window.localStorage.setItem(REGISTRATION_KEY, JSON.stringify({ token, email, expiresAt }));
    } catch {
      // Storage refused (private mode): the mail's link then asks for the password.
    }
  },
  /** The stored registration, if it is still live (and for `email`, when given). */
  load(email) {
    let stored = null;
    try {
      stored = JSON.parse(window.localStorage.getItem(REGISTRATION_KEY) || "null");
    } catch {
      stored = null;
    }
    if (!stored || typeof stored.token !== "string" || typeof stored.email !== "string") {
      return null;
    }
    if (!(Date.parse(stored.expiresAt) > Date.now())) {
      this.forget();
      return null;
    }
    if (email && stored.email.toLowerCase() !== email.trim().toLowerCase()) {
      return null;
    }
    return stored;
  },
  forget() {
    try {
      window.localStorage.removeItem(REGISTRATION_KEY);
    } catch {
      // nothing stored
    }
  },
};

// ---------------------------------------------------------------------------------------------
// The page's steps and forms

export const element = (tag, attributes = {}, text = null) => {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, value);
  }
  if (text !== null) {
    node.textContent = text;
  }
  return node;
};

/** Show one step (a section) of the page, hide the others, and move the focus there. */
export const showStep = (steps, step, focus) => {
  for (const id of steps) {
    $(id).hidden = id !== step;
  }
  if (focus) {
    focus.focus();
  }
};

export const setBusy = (form, busy) => {
  for (const button of form.querySelectorAll("button")) {
    button.disabled = busy;
  }
  form.setAttribute("aria-busy", busy ? "true" : "false");
};

/** The boxes that show a password as it is typed ([data-shows] names the box). */
export const wirePasswordSwitches = () => {
  for (const box of document.querySelectorAll("input[data-shows]")) {
    box.addEventListener("change", () => {
      $(box.dataset.shows).type = box.checked ? "text" : "password";
    });
  }
};

/** An address refused: why, where the server says (a reason unknown here: the code's words). */
const invalidEmailWords = (error) => {
  switch (error.reason) {
    case "MIXED_SCRIPTS":
      // A domain mixing alphabets, as look-alikes of other addresses do.
      return t("invite.email_mixed_scripts");
    case "NON_BREAKING_SPACE":
      return t("invite.email_non_breaking_space");
    case "ENDS_WITH": {
      const detail = (error.details || []).find((each) => each.name === "character");
      return detail
        ? t("invite.email_ends_with", { character: detail.value })
        : t("invite.invalid_email");
    }
    default:
      return t("invite.invalid_email");
  }
};

/** A code that does not confirm: wrong or old, or (said only to the registration's maker)
 * its registration was cancelled by the letter's code typed again for another one. */
export const invalidCodeWords = (error) =>
  error.reason === "LETTER_CODE_USED_AGAIN"
    ? t("confirm.letter_code_used_again")
    : t("confirm.invalid_code");

/** What to say about an error the server sent, in the page's language where it can. */
export const messageFor = (error, target) => {
  switch (error.code) {
    case "INVALID_EMAIL":
      return invalidEmailWords(error);
    case "EMAIL_NOT_DELIVERABLE":
      return t("invite.email_not_deliverable");
    case "REQUIRED_FIELD_MISSING":
      return t("invite.fill_in"); // the same words as for an empty name
    case "RATE_LIMITED":
      return waitWords(error.retryAfter);
    case "TEMPORARILY_UNAVAILABLE":
      // A part of the server is down for a moment: nothing was done, the same try works later.
      return t("invite.unavailable");
    case "INVALID_NAME":
      return target && !target.input.value.trim() ? t("invite.fill_in") : error.message;
    case "WEAK_PASSWORD":
      if (target && !target.input.value) {
        return t("invite.fill_in"); // nothing typed: nothing to call weak
      }
      // The server says exactly why, in English only (its password checker knows no other
      // language): the page's own words in the others.
      return pageLanguage().toLowerCase().startsWith("en")
        ? error.message
        : t("invite.weak_password");
    default:
      // Field values: the server's message says exactly why.
      return error.message;
  }
};

/**
 * A form whose errors show beside their fields: `fields` maps each GraphQL error `field`
 * ("firstName", "registrationFieldValues.key") to its input and the element for its message.
 */
export class Form {
  constructor(form, { status, progress, fields = {}, messages = {} }) {
    this.form = form;
    this.status = status;
    this.progress = progress;
    this.messages = messages;
    this.fields = new Map();
    for (const [name, id] of Object.entries(fields)) {
      this.add(name, { input: $(id), error: $(`${id}-error`) });
    }
  }

  add(name, entry) {
    this.fields.set(name, entry);
  }

  clear() {
    this.status.textContent = "";
    if (this.progress) {
      this.progress.textContent = "";
    }
    for (const { input, error } of this.fields.values()) {
      error.textContent = "";
      input.removeAttribute("aria-invalid");
    }
  }

  /** One field's problem, found by the page before asking the server. */
  fieldProblem(name, message) {
    this.showErrors([{ code: "PAGE", message, field: name }]);
  }

  /** The server's errors beside their fields (the rest on top), focus on the first field in
   * the page's order (not the server's), so that no problem is skipped. */
  showErrors(errors) {
    const general = [];
    let firstInvalid = null;
    const comesBefore = (node, other) =>
      Boolean(other.compareDocumentPosition(node) & Node.DOCUMENT_POSITION_PRECEDING);
    for (const error of errors) {
      const target = error.field ? this.fields.get(error.field) : undefined;
      const own = this.messages[error.code];
      const message = own ? own(error) : messageFor(error, target);
      if (target) {
        const existing = target.error.textContent;
        target.error.textContent = existing ? `${existing} ${message}` : message;
        target.input.setAttribute("aria-invalid", "true");
        if (!firstInvalid || comesBefore(target.input, firstInvalid)) {
          firstInvalid = target.input;
        }
      } else {
        general.push(message);
      }
    }
    const summary = firstInvalid && this.fields.size > 1 ? [t("invite.errors_summary")] : [];
    this.status.textContent = [...general, ...summary].join(" ");
    if (firstInvalid) {
      firstInvalid.focus();
    } else {
      this.status.setAttribute("tabindex", "-1");
      this.status.focus();
    }
  }

  /**
   * Run a request with the form busy and its progress shown; a failure to reach the server
   * (or a server fault) is shown on top. Resolves to the answer, or null after a failure.
   */
  async submit(progressWords, request) {
    this.clear();
    if (this.progress) {
      this.progress.textContent = progressWords;
    }
    setBusy(this.form, true);
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof Unreachable || error instanceof ServerFailed)) {
        throw error;
      }
      this.status.textContent = failureMessage(error);
      return null;
    } finally {
      setBusy(this.form, false);
      if (this.progress) {
        this.progress.textContent = "";
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Registration fields (the platform's own questions)

const labelFor = (forId, title, required) => {
  const label = element("label", { for: forId }, required ? `${title} ` : title);
  if (required) {
    label.append(element("span", { "aria-hidden": "true" }, "*"));
  }
  return label;
};

/**
 * The input of a registration field, with its current value (JSON, as the API holds it):
 * { wrapper, entry } where `entry` goes into a Form under "registrationFieldValues.<key>". Its
 * titles come in the page's language (the queries ask `title(locale:)`).
 */
export const registrationField = (field, { required, value, choose }) => {
  const id = `field-${field.key}`;
  const wrapper = element("div", { class: "field" });
  const error = element("p", { id: `${id}-error`, class: "field-error", "aria-live": "polite" });
  const { title } = field;
  let input;
  if (field.type === "CHECKBOX") {
    wrapper.classList.add("check");
    input = element("input", { type: "checkbox", id, name: field.key });
    input.checked = value === true;
    wrapper.append(input, labelFor(id, title, required), error);
  } else if (field.type === "SELECT") {
    input = element("select", { id, name: field.key });
    input.append(element("option", { value: "" }, choose));
    for (const option of field.options) {
      input.append(element("option", { value: option.key }, option.title));
    }
    input.value = typeof value === "string" ? value : "";
    wrapper.append(labelFor(id, title, required), input, error);
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
    input.value = value === undefined || value === null ? "" : String(value);
    wrapper.append(labelFor(id, title, required), input, error);
  }
  input.required = required;
  input.setAttribute("aria-describedby", error.id);
  return { wrapper, entry: { input, error, type: field.type, key: field.key } };
};

/** A registration field's value as the API takes it. */
export const fieldValue = ({ input, type }) => {
  if (type === "CHECKBOX") {
    return input.checked ? "true" : "false";
  }
  // As a JSON string: the server reads bare JSON literals as numbers or booleans.
  return JSON.stringify(input.value.trim());
};

/** Read a URL fragment's parameters and take them out of the address bar. */
export const takeFragment = () => {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) {
    return new URLSearchParams();
  }
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  return new URLSearchParams(hash);
};
