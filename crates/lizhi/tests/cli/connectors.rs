//! Connected systems from the command line: registered with a sealed secret, listed without it, and each
//! person's accounts imported.

use super::backends;

#[test]
fn connectors_are_registered_with_a_sealed_secret_and_accounts_imported() {
    for db in backends() {
        db.import_demo(10);
        let out = db
            .run_stdin(
                &[
                    "connectors",
                    "put",
                    "corp-ad",
                    "--kind",
                    "ldap",
                    "--name",
                    "Corp AD",
                    "--setting",
                    "url=ldap://dc1",
                    "--setting",
                    "bind_dn=cn=lizhi,dc=corp",
                    "--setting",
                    "base_dn=dc=corp",
                    "--setting",
                    "flavor=active_directory",
                    "--secret-stdin",
                ],
                b"bind-pass-0815\n",
            )
            .ok();
        assert!(out.stdout.contains("corp-ad"), "[{}] {}", db.label, out.stdout);
        // Settings the client cannot use are refused with the reason; numbers are read as numbers.
        let incomplete = db.run(&["connectors", "put", "wecom", "--kind", "wecom", "--name", "WeCom"]).failed_with(1);
        assert!(incomplete.stderr.contains("corp_id"), "{}", incomplete.stderr);
        let wecom = [
            "connectors",
            "put",
            "wecom",
            "--kind",
            "wecom",
            "--name",
            "WeCom",
            "--setting",
            "corp_id=ww1",
            "--setting",
            "agent_id=1000002",
            "--secret-stdin",
        ];
        db.run_stdin(&wecom, b"{\"contact_sync_secret\": \"c\", \"app_secret\": \"a\"}\n").ok();
        let not_wecom = db
            .run(&["connectors", "sync-checkins", "corp-ad", "--from", "2026-03-01", "--to", "2026-03-02"])
            .failed_with(1);
        assert!(not_wecom.stderr.contains("WeCom"), "{}", not_wecom.stderr);
        let refused = db
            .run(&["connectors", "put", "x", "--kind", "ldap", "--name", "X", "--setting", "password=p"])
            .failed_with(1);
        assert!(refused.stderr.to_lowercase().contains("secret"), "{}", refused.stderr);
        let list = db.run(&["connectors", "list"]).ok().stdout;
        assert!(!list.contains("bind-pass-0815"), "{list}");
        let (ad, wecom) = (list.find("corp-ad").expect("ad"), list.find("wecom").expect("wecom"));
        assert!(ad < wecom, "WeCom is revoked last:\n{list}");
        assert!(list.contains("stored"), "{list}");

        // A directory nobody listens on: the test fails and says why, without the secret.
        let dead = db.run(&["connectors", "test", "corp-ad"]).failed_with(1);
        assert!(dead.stderr.contains("corp-ad") && !dead.all().contains("bind-pass-0815"), "{}", dead.all());
        db.run(&["connectors", "test", "no-such"]).failed_with(1);

        let people = db.export("employees");
        let no = people.rows[0].get(people.column("employee_no").expect("no")).to_owned();
        let file = db
            .write("ids.csv", format!("employee_no,system,account_id\n{no},wecom,zhangsan\n{no},nope,x\n").as_bytes());
        let bad = db.run(&["import", "identities", &file]).failed_with(1);
        assert!(bad.all().contains("row 3"), "[{}] {}", db.label, bad.all());
        let file = db.write("ids.csv", format!("employee_no,system,account_id\n{no},wecom,zhangsan\n").as_bytes());
        let good = db.run(&["import", "identities", &file]).ok();
        assert!(good.stdout.contains("created"), "[{}] {}", db.label, good.stdout);
        // Freeze on suspicion: queued for WeCom, visible in the status table.
        let case: serde_json::Value =
            serde_json::from_str(&db.run(&["case", "open", &no]).ok().stdout).expect("case json");
        let id = case["id"].as_i64().expect("id");
        let status = db.run(&["connectors", "status"]).ok().stdout;
        assert!(!status.contains("queued"), "nothing asked yet:\n{status}");
        let early = db.run(&["case", "access", &id.to_string(), "revoke"]).failed_with(1);
        assert!(early.stderr.to_lowercase().contains("confirm"), "{}", early.stderr);
        let frozen: serde_json::Value =
            serde_json::from_str(&db.run(&["case", "access", &id.to_string(), "freeze"]).ok().stdout).expect("json");
        assert_eq!(frozen["queued"], 1, "{frozen}");
        assert_eq!(
            (frozen["items"][0]["system"].as_str(), frozen["items"][0]["status"].as_str()),
            (Some("wecom"), Some("queued"))
        );
        let status = db.run(&["connectors", "status"]).ok().stdout;
        assert!(status.contains("wecom") && status.contains("queued"), "{status}");
    }
}
