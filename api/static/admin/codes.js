/* Generate codes: code-only invitations for letters (generateInvitationCodes), then the ways
 * to the codes: the export and the letters, filtered to the chosen group. */

import { $, LOCALE, ROOT, graphql, plural, problemWords, say, sayFailure, t } from "./client.js";
import { loadChoices, readOptions } from "./options.js";

const GENERATE = `mutation AdminGenerateCodes($count: Int!, $options: InvitationOptionsInput) {
  generateInvitationCodes(count: $count, options: $options) {
    invitedCount
    errors { code message field value }
  }
}`;

const form = $("codes");
const countInput = $("count");
const status = $("codes-status");
const done = $("codes-done");
let groups = [];

loadChoices("codes", LOCALE).then((found) => {
  groups = found;
});

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
    // The export and the letters select by group: the codes of this batch with the group's
    // other invitations (one group per batch keeps them apart), else every pending one.
    const filter = { status: "pending" };
    const chosen = groups.filter((group) => options.groupIds.includes(group.id));
    if (chosen.length) {
      filter.groupId = chosen[0].id;
      $("codes-scope").textContent = t("admin.codes.for_group", { group: chosen[0].title });
    } else {
      $("codes-scope").textContent = t("admin.codes.for_all");
    }
    $("codes-done-text").textContent = plural("admin.codes.done", result.invitedCount);
    $("codes-export").href = download("/invitations/export.xlsx", filter);
    $("codes-letters").href = download("/invitations/letters.pdf", { ...filter, codeOnly: "true" });
    $("codes-cards").href = download("/invitations/letters.pdf", {
      ...filter,
      codeOnly: "true",
      layout: "cards",
    });
    done.hidden = false;
    done.focus();
  } catch (error) {
    sayFailure(status, error);
  } finally {
    button.disabled = false;
  }
});
