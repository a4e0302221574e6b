/* Mail delivery: this deployment's sending set-up, the DNS records to publish, the allowlisting
 * steps for Outlook / Exchange and Google Workspace admins, how to check; and lifting the
 * suppression of an address that bounced for good or complained.
 */

import { $, LOCALE, el, graphql, say, t } from "./client.js";
import { busy, clearProblems, markInvalid, showFailure, showProblems } from "./manage.js";
import { showSendingPause } from "./sending.js";

const SETTINGS = `
query MailDelivery($locale: String) {
  mailDeliverySettings(locale: $locale) {
    sendingDomain fromAddress returnPath messageIdDomain smtpHost sendingIps dkimEnabled
    dnsRecords { type name value purpose }
    exchangeSteps googleSteps checkCommands checkSteps
  }
}`;
const LIFT = `
mutation Lift($email: String!) {
  liftMailSuppression(email: $email) { lifted { email } errors { code message field value reason } }
}`;

const problem = $("problem");

const steps = (list, items) => list.replaceChildren(...items.map((item) => el("li", item)));

const load = async () => {
  let settings;
  try {
    ({ mailDeliverySettings: settings } = await graphql(SETTINGS, { locale: LOCALE }));
  } catch (error) {
    showFailure(problem, error);
    return;
  } finally {
    $("setup").removeAttribute("aria-busy");
  }
  const setup = [
    ["admin.mail.sending_domain", settings.sendingDomain],
    ["admin.mail.from", settings.fromAddress],
    ["admin.mail.return_path", settings.returnPath],
    ["admin.mail.message_id_domain", settings.messageIdDomain],
    ["admin.mail.smtp_host", settings.smtpHost],
    ["admin.mail.sending_ips", settings.sendingIps.join(", ") || t("admin.mail.none")],
    ["admin.mail.dkim", settings.dkimEnabled ? t("admin.lists.yes") : t("admin.lists.no")],
  ];
  $("setup").replaceChildren(
    ...setup.flatMap(([key, value]) => [el("dt", t(key)), el("dd", value)]),
  );
  $("dns")
    .querySelector("tbody")
    .replaceChildren(
      ...settings.dnsRecords.map((record) => {
        const row = el("tr");
        const value = el("td", "", { "data-label": t("admin.mail.record_value") });
        value.append(el("pre", record.value, { class: "record" }));
        row.append(
          el("td", record.type, { "data-label": t("admin.mail.record_type") }),
          el("td", record.name, { "data-label": t("admin.mail.record_name"), class: "email" }),
          value,
          el("td", record.purpose, { "data-label": t("admin.mail.record_purpose") }),
        );
        return row;
      }),
    );
  steps($("exchange-steps"), settings.exchangeSteps);
  steps($("google-steps"), settings.googleSteps);
  steps($("check-steps"), settings.checkSteps);
  $("check-commands").replaceChildren(
    ...settings.checkCommands.map((command) => el("pre", command, { class: "record" })),
  );
};

$("lift").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = $("lift-email");
  const result = $("lift-result");
  busy(event.submitter || input, async () => {
    say(result, "");
    clearProblems($("lift"));
    const email = input.value.trim();
    if (!email) {
      markInvalid(input, t("admin.mail.lift_needed"));
      input.focus();
      return;
    }
    try {
      const { liftMailSuppression: lifted } = await graphql(LIFT, { email });
      if (lifted.errors.some((error) => error.code === "NOT_FOUND")) {
        say(result, t("admin.mail.not_suppressed", { email }));
        return;
      }
      if (
        showProblems(result, lifted.errors, {
          at: (problem) => (problem.field === "email" ? input : null),
        })
      ) {
        return;
      }
      say(result, t("admin.mail.lifted", { email: lifted.lifted.email }), "success");
    } catch (error) {
      showFailure(result, error);
    }
  });
});

load();
showSendingPause($("sending-pause"));

// The button comes disabled (before this script, a click or Enter would send the form the
// browser's way, with what was typed in the address): it works from here on.
$("lift-submit").disabled = false;
