//! The audit log and evidence bundles from the command line: export, offline verification (no database),
//! live log verification, checkpoints, key rotation and purges, on every backend.

use super::{backends, finish, lizhi_cmd};

#[test]
fn bundles_export_and_verify_offline_and_the_log_survives_a_key_rotation() {
    for db in backends() {
        db.import_demo(20);
        let people = db.export("employees");
        let no = people.rows[3].get(people.column("employee_no").expect("no")).to_owned();
        let opened = super::case_json(&db.run(&["case", "open", &no]).ok());
        let id = opened["id"].as_i64().expect("id").to_string();
        for channel in ["phone", "sms", "wecom"] {
            db.run(&["case", "act", &id, "log_contact", &format!("channel={channel}"), "outcome=no_answer"]).ok();
        }
        db.run(&["case", "act", &id, "confirm_departure"]).ok();

        let verified = db.run(&["audit", "verify"]).ok();
        assert!(verified.stdout.contains("OK"), "[{}] {}", db.label, verified.stdout);
        let note = db.run(&["audit", "checkpoint"]).ok().stdout;
        assert!(note.lines().nth(1).is_some_and(|size| size.parse::<u64>().is_ok()), "{note}");
        assert!(note.contains("\n\n\u{2014} "), "a signed note: {note}");
        let kept = db.write("kept-checkpoint.txt", note.as_bytes());

        let zip = db.path("case.zip").display().to_string();
        let out = db.run(&["evidence", "export", &id, "-o", &zip]).ok();
        assert!(out.stdout.contains("case.zip"), "[{}] {}", db.label, out.stdout);
        // Offline: no database URL, run from another folder.
        let elsewhere = tempfile::tempdir().expect("tmp");
        let offline = finish(lizhi_cmd(elsewhere.path()).args(["evidence", "verify", &zip]), None).ok();
        for dimension in ["files: PASS", "events: PASS", "inclusion: PASS", "consistency: PASS", "signatures: PASS"] {
            assert!(offline.stdout.contains(dimension), "[{}] {dimension}:\n{}", db.label, offline.stdout);
        }
        assert!(offline.stdout.contains("timestamps: SKIP"), "{}", offline.stdout);

        // A changed byte anywhere in the zip is refused, and says where.
        let mut bytes = std::fs::read(&zip).expect("zip");
        let at = bytes.len() / 3;
        bytes[at] ^= 0x55;
        let broken = db.write("broken.zip", &bytes);
        let out = finish(lizhi_cmd(elsewhere.path()).args(["evidence", "verify", &broken]), None);
        assert_ne!(out.code, Some(0), "[{}] a damaged bundle must fail:\n{}", db.label, out.all());

        // Keys obtained separately: a bundle whose keys are not among them fails.
        let stranger =
            db.write("stranger.keys", b"someone/else+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n");
        let out = finish(lizhi_cmd(elsewhere.path()).args(["evidence", "verify", &zip, "--keys", &stranger]), None)
            .failed_with(1);
        assert!(out.stdout.contains("FAIL"), "{}", out.stdout);

        // After a rotation the log still verifies, the handover checkpoint carries both signatures and the old
        // checkpoint kept outside still matches.
        let rotated = db.run(&["audit", "rotate-key", "--destroy-old"]).ok();
        assert!(rotated.stdout.contains("+"), "{}", rotated.stdout);
        let handover = db.run(&["audit", "checkpoint"]).ok().stdout;
        assert_eq!(handover.lines().filter(|l| l.starts_with('\u{2014}')).count(), 2, "old and new key: {handover}");
        db.run(&["case", "act", &id, "dispatch_notice", "method=post", "on=2026-03-02", "tracking_no=EMS7"]).ok();
        let verified = db.run(&["audit", "verify", "--checkpoint", &kept]).ok();
        assert!(verified.stdout.matches("key: ").count() == 2, "{}", verified.stdout);
        let zip2 = db.path("case2.zip").display().to_string();
        db.run(&["evidence", "export", &id, "-o", &zip2]).ok();
        let offline = finish(lizhi_cmd(elsewhere.path()).args(["evidence", "verify", &zip2]), None).ok();
        assert!(offline.stdout.contains("signatures: PASS"), "{}", offline.stdout);
        let employee_zip = db.path("person.zip").display().to_string();
        db.run(&["evidence", "export", "--employee", &no, "-o", &employee_zip]).ok();
        finish(lizhi_cmd(elsewhere.path()).args(["evidence", "verify", &employee_zip]), None).ok();

        // A purge keeps the log verifiable.
        let purged = db.run(&["audit", "purge", "employee", &no]).ok();
        assert!(purged.stdout.contains(':'), "{}", purged.stdout);
        db.run(&["audit", "verify"]).ok();
        let missing = db.run(&["evidence", "export", "999999", "-o", &zip2]).failed_with(1);
        assert!(missing.stderr.contains("Not found"), "{}", missing.stderr);
    }
}
