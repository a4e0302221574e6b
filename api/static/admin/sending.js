/* Whether sending is paused (the mail relay refuses every mail or cannot be reached): a notice
 * at the top of the invitations list and of the Mail delivery page, with since when, the
 * relay's last answer (any address in it left out by the server) and that the waiting mails
 * go out by themselves once the relay takes mail again.
 */

import { el, formatDate, graphql, t } from "./client.js";

const PAUSE = `query SendingPause { mailSendingPause { since relayAnswer } }`;

/** Show or hide the notice in `notice` (a section with a heading, hidden until needed). A
 * failure to ask says nothing here: the page's own requests say theirs. */
export const showSendingPause = async (notice) => {
  let pause;
  try {
    ({ mailSendingPause: pause } = await graphql(PAUSE));
  } catch {
    return;
  }
  if (!pause) {
    notice.hidden = true;
    return;
  }
  const answer = el("p", t("admin.sending_pause.answer"));
  answer.append(" ", el("code", pause.relayAnswer, { class: "relay-answer" }));
  notice.querySelector("[data-pause-text]").replaceChildren(
    el("p", t("admin.sending_pause.since", { since: formatDate(pause.since) })),
    answer,
    el("p", t("admin.sending_pause.resumes")),
  );
  notice.hidden = false;
};
