/* Generate codes: code-only invitations for letters (generateInvitationCodes), then the ways
 * to this batch's codes: the export, the letters and the cards. */

import { $, LOCALE, ROOT, graphql, plural, problemWords, say, sayFailure, t } from "./client.js";
import { guardDownload } from "./downloads.js";
import { loadChoices, readOptions } from "./options.js";

const GENERATE = `mutation AdminGenerateCodes($count: Int!, $options: InvitationOptionsInput) {
  generateInvitationCodes(count: $count, options: $options) {
    invitedCount
    invitations { id }
    errors { code message field value }
  }
}`;

const form = $("codes");
const countInput = $("count");
const status = $("codes-status");
const done = $("codes-done");
const downloadStatus = $("codes-download-status");

let groups = [];

loadChoices("codes", LOCALE).then((found) => {
  groups = found;
});
for (const id of ["codes-export", "codes-letters", "codes-cards"]) {
  guardDownload($(id), downloadStatus);
}

const download = (path, params) => `${ROOT}${path}?${new URLSearchParams(params)}`;

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  done.hidden = true;
  const count = Number(countInput.value);
  if (!Number.isInteger(count) || count < 1 || count > Number(countInput.max)) {
    countInput.setAttribute("aria-invalid", "true");
    say(status, t("admin.codes.count_invalid", { max: countInput.max }), "error");
    countInput.focus();
    return;
  }
  countInput.removeAttribute("aria-invalid");
  const options = { ...readOptions("codes"), sendEmail: false };
  const localeSelect = $("codes-locale");
  const batchLanguage = localeSelect.selectedOptions[0]?.textContent.trim() || options.locale;
  const button = $("codes-submit");
  button.disabled = true;
  say(status, t("admin.working"));
  try {
    const data = await graphql(GENERATE, { count, options });
    const result = data.generateInvitationCodes;
    if (result.errors.length) {
      say(status, result.errors.map(problemWords).join(" "), "error");
      return;
    }
    say(status, "");
    say(downloadStatus, "");
    // Exactly this batch: the invitations written with its first one (earlier batches, of
    // the same group or none, are not printed again).
    const filter = { batchOf: result.invitations[0].id };
    $("codes-done-text").textContent = plural("admin.codes.done", result.invitedCount);
    const [group] = groups.filter((found) => options.groupIds.includes(found.id));
    $("codes-scope").textContent = group
      ? t("admin.codes.for_group", { group: group.title })
      : t("admin.codes.for_all");
    // The language the batch was made in (the one chosen when it was sent, not now).
    $("codes-language").textContent = t("admin.codes.language", { language: batchLanguage });
    $("codes-export").href = download("/invitations/export.xlsx", { ...filter, lang: LOCALE });
    $("codes-letters").href = download("/invitations/letters.pdf", {
      ...filter,
      codeOnly: "true",
      lang: LOCALE,
    });
    $("codes-cards").href = download("/invitations/letters.pdf", {
      ...filter,
      codeOnly: "true",
      layout: "cards",
      lang: LOCALE,
    });
    done.hidden = false;
    done.focus();
  } catch (error) {
    sayFailure(status, error);
  } finally {
    button.disabled = false;
  }
});

// The buttons come disabled (before this script, a click would send the form the browser's
// way, with what was typed in the address): they work from here on.
$("codes-submit").disabled = false;
