#include "config/export_config.h"

#include <gtest/gtest.h>

#include "config/project_config.h"

namespace cdp {
namespace {

const char* kActivation = R"(project: shop
sources:
  - name: Consents
    kind: csv
    path: consents.csv
connections:
  - name: crm_db
    kind: postgres
    settings: {host: 127.0.0.1, port: 5432, database: crm, user: cdp}
    secrets:
      password: {env: CRM_PASSWORD}
  - name: hooks
    kind: webhook
    settings: {url: "https://example.test/hook"}
    secrets:
      hmac_secret: {secret: hook-key}
  - name: lake
    kind: files
    settings: {path: exports}
exports:
  - name: high_value_to_crm
    connection: crm_db
    what: {segment: HighValue}
    fields: [CustomerId, {FirstName: first_name}, {field: Email, as: email}, LifetimeSpend]
    key: CustomerId
    mode: delta
    when: refresh
    purpose: email_marketing
    target: high_value
    batch_size: 500
    options: {schema: public}
  - name: all_customers
    connection: lake
    what: {entity: Customer}
    mode: full
    when: "0 4 * * *"
  - name: on_demand
    connection: lake
    what: {entity: UnifiedActivity}
    key: ActivityId
    when: manual
consent:
  entity: Consents
  customer_field: CustomerId
  purpose_field: Purpose
  status_field: Status
  date_field: UpdatedAt
  source_field: Source
  granted_values: [granted, opt_in]
triggers:
  - name: entered_high_value
    connection: hooks
    on: {segment: HighValue, events: [exited, entered]}
    fields: [CustomerId, Email]
  - name: big_spenders
    connection: hooks
    on: {measure: LifetimeSpend, above: 1000}
)";

TEST(ExportConfigTest, ParsesConnectionsExportsConsentAndTriggers) {
  auto c = ParseProjectYaml(kActivation, "project.yaml", "/p");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->connections.size(), 3u);
  EXPECT_EQ(c->connections[0].kind, "postgres");
  EXPECT_EQ(c->connections[0].settings.at("port"), "5432");
  EXPECT_EQ(c->connections[0].secrets.at("password").env, "CRM_PASSWORD");
  EXPECT_EQ(c->connections[1].secrets.at("hmac_secret").secret, "hook-key");
  ASSERT_EQ(c->exports.size(), 3u);
  const ExportConfig& e = c->exports[0];
  EXPECT_EQ(e.segment, "HighValue");
  ASSERT_EQ(e.fields.size(), 4u);
  EXPECT_EQ(e.fields[1].field, "FirstName");
  EXPECT_EQ(e.fields[1].output_name(), "first_name");
  EXPECT_EQ(e.fields[2].output_name(), "email");
  EXPECT_EQ(e.fields[3].output_name(), "LifetimeSpend");
  EXPECT_EQ(e.mode, ExportMode::kDelta);
  EXPECT_EQ(e.batch_size, 500);
  EXPECT_EQ(e.purpose, "email_marketing");
  EXPECT_EQ(e.Target(), "high_value");
  EXPECT_EQ(c->exports[1].mode, ExportMode::kFull);
  EXPECT_EQ(c->exports[1].when, "0 4 * * *");
  EXPECT_EQ(c->exports[1].KeyField(), "CustomerId");
  EXPECT_EQ(c->exports[1].Target(), "all_customers");
  EXPECT_EQ(c->exports[2].KeyField(), "ActivityId");
  EXPECT_EQ(c->consent.entity, "Consents");
  EXPECT_EQ(c->consent.granted_values, (std::vector<std::string>{"granted", "opt_in"}));
  ASSERT_EQ(c->triggers.size(), 2u);
  EXPECT_EQ(c->triggers[0].events, (std::vector<std::string>{"entered", "exited"}));  // canonical order
  EXPECT_EQ(c->triggers[1].measure, "LifetimeSpend");
  ASSERT_TRUE(c->triggers[1].above.has_value());
  EXPECT_EQ(*c->triggers[1].above, 1000);
  EXPECT_EQ(c->triggers[1].events, (std::vector<std::string>{"crossed_above", "crossed_below"}));
}

TEST(ExportConfigTest, EmitThenParseRoundTripsWithoutSecretValues) {
  auto c = ParseProjectYaml(kActivation, "project.yaml", "/p");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string yaml = EmitProjectYaml(*c);
  EXPECT_NE(yaml.find("CRM_PASSWORD"), std::string::npos);
  auto again = ParseProjectYaml(yaml, "emitted.yaml", "/p");
  ASSERT_TRUE(again.ok()) << again.status().ToString() << "\n" << yaml;
  EXPECT_EQ(*again, *c) << yaml;
  // The JSON forms (catalog) too.
  auto connections = ConnectionsFromJson(ConnectionsToJson(c->connections));
  ASSERT_TRUE(connections.ok()) << connections.status().ToString();
  EXPECT_EQ(*connections, c->connections);
  auto exports = ExportsFromJson(ExportsToJson(c->exports));
  ASSERT_TRUE(exports.ok()) << exports.status().ToString();
  EXPECT_EQ(*exports, c->exports);
  auto consent = ConsentFromJson(ConsentToJson(c->consent));
  ASSERT_TRUE(consent.ok()) << consent.status().ToString();
  EXPECT_EQ(*consent, c->consent);
  auto empty_consent = ConsentFromJson(ConsentToJson(ConsentConfig()));
  ASSERT_TRUE(empty_consent.ok());
  EXPECT_TRUE(empty_consent->empty());
  auto triggers = TriggersFromJson(TriggersToJson(c->triggers));
  ASSERT_TRUE(triggers.ok()) << triggers.status().ToString();
  EXPECT_EQ(*triggers, c->triggers);
  auto one = ExportConfigFromJson(ExportConfigToJson(c->exports[0]));
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_EQ(*one, c->exports[0]);
}

std::string Replace(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

void ExpectError(const std::string& yaml, const std::vector<std::string>& parts) {
  auto c = ParseProjectYaml(yaml, "project.yaml", "/p");
  ASSERT_FALSE(c.ok()) << yaml;
  EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument);
  for (const auto& p : parts) EXPECT_NE(c.status().message().find(p), std::string::npos) << c.status().message();
}

TEST(ExportConfigTest, ALiteralSecretIsAnErrorNamingTheConnectionAndKey) {
  ExpectError(Replace(kActivation, "password: {env: CRM_PASSWORD}", "password: hunter2"),
              {"project.yaml:", "connection 'crm_db'", "secret 'password'", "must not be written"});
  ExpectError(Replace(kActivation, "user: cdp}", "user: cdp, password: hunter2}"),
              {"connection 'crm_db'", "'password' is a secret"});
  ExpectError(Replace(kActivation, "password: {env: CRM_PASSWORD}", "password: {env: A, secret: b}"),
              {"connection 'crm_db'", "exactly one of env and secret"});
  // The literal is never repeated in the message.
  auto c = ParseProjectYaml(Replace(kActivation, "password: {env: CRM_PASSWORD}", "password: hunter2"), "p", "/p");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().find("hunter2"), std::string::npos);
}

TEST(ExportConfigTest, ErrorsNameTheExportAndTheKey) {
  ExpectError(Replace(kActivation, "connection: crm_db\n    what", "connection: nowhere\n    what"),
              {"export 'high_value_to_crm'", "'nowhere' is not a declared connection", "crm_db, hooks, lake"});
  ExpectError(Replace(kActivation, "what: {segment: HighValue}", "what: {segment: HighValue, entity: Customer}"),
              {"export 'high_value_to_crm'", "exactly one of"});
  ExpectError(Replace(kActivation, "mode: delta", "mode: sometimes"), {"export 'high_value_to_crm'", "mode"});
  ExpectError(Replace(kActivation, "when: manual", "when: often"), {"export 'on_demand'", "when"});
  ExpectError(Replace(kActivation, "batch_size: 500", "batch_size: 0"), {"export 'high_value_to_crm'", "batch size"});
  ExpectError(Replace(kActivation, "{FirstName: first_name}", "{FirstName: Email}, Email"),
              {"output field 'Email' is listed twice"});
  ExpectError(Replace(kActivation, "    target: high_value\n", "    target: high_value\n    colour: red\n"),
              {"exports[0].colour", "unknown key"});
  ExpectError(Replace(kActivation, "events: [exited, entered]", "events: [entered, crossed_above]"),
              {"trigger 'entered_high_value'", "unknown event 'crossed_above'"});
  ExpectError(Replace(kActivation, "{measure: LifetimeSpend, above: 1000}", "{measure: LifetimeSpend}"),
              {"trigger 'big_spenders'", "above"});
  ExpectError(Replace(kActivation, "connection: hooks\n    on: {measure", "connection: gone\n    on: {measure"),
              {"trigger 'big_spenders'", "'gone' is not a declared connection"});
  ExpectError(Replace(kActivation, "  purpose_field: Purpose\n", ""), {"consent", "purpose_field"});
  ExpectError(Replace(kActivation, "  - name: on_demand\n", "  - name: all_customers\n"),
              {"'all_customers' is declared twice"});
}

}  // namespace
}  // namespace cdp
