// Access: policies (with a capability check), tokens, AppRole roles, userpass users, AWS keys.
import { native, vault } from "./api.js";
import { button, dangerButton, form, h, input, link, list, mount, moveOn, notice, splitList, table, titled, when } from "./dom.js";

// A credential made here is shown once, in a box the page forgets when left.
function shownOnce(title, pairs) {
  return h("div", { class: "card secret-box", role: "status" },
    h("strong", {}, title), h("p", {}, "Copy it now: it is not shown again."),
    table(["", ""], pairs.map(([k, v]) => [k, h("code", { class: "once" }, v)])));
}

async function policies(el, [name]) {
  if (name !== undefined) return policy(el, name);
  titled("Policies");
  const doc = await native("GET", "sys/policies/acl");
  mount(el, h("h1", {}, "Policies"),
    table(["Name"], doc.keys.map((key) => [link(key, "policies", key)])),
    h("h2", {}, "New policy"),
    form([input("name", "Name", { id: "new-policy-name" })], "Create", (values) => {
      location.hash = "#/policies/" + encodeURIComponent(values.name);
    }),
    capabilityCheck());
}

async function policy(el, name) {
  titled("Policy");
  let text = "";
  let exists = true;
  try {
    text = (await native("GET", ["sys", "policies", "acl", name])).data.policy;
  } catch (error) {
    if (error.status !== 404) throw error;
    exists = false;
    text = 'path "secret/data/*" {\n  capabilities = ["read"]\n}\n';
  }
  const area = h("textarea", { id: "policy-text", spellcheck: "false" });
  area.value = text;
  const status = h("div", {});
  const editable = name !== "root";
  mount(el, h("h1", {}, `Policy ${name}`), status,
    exists ? null : notice("A new policy: it is created when you save it.", "warn"),
    area,
    h("div", { class: "row" },
      editable ? button("Save", async () => {
        try {
          await native("PUT", ["sys", "policies", "acl", name], { policy: area.value });
          mount(status, notice("Saved: the policy is valid and in force.", "ok"));
        } catch (error) {
          mount(status, notice(error.message));
        }
      }, "primary") : h("span", { class: "muted" }, "The root policy cannot be changed."),
      editable && exists ? dangerButton("Delete", async () => {
        try {
          await native("DELETE", ["sys", "policies", "acl", name]);
          moveOn(el, "#/policies");
        } catch (error) {
          mount(status, notice(error.message));
        }
      }) : null),
    capabilityCheck());
}

// "What can this token do on path X": this console's token, or any token by its accessor.
function capabilityCheck() {
  const result = h("div", { class: "capabilities" });
  return h("div", { class: "card" }, h("h2", {}, "What can a token do on a path?"),
    form([
      input("path", "Path", { id: "cap-path", placeholder: "secret/data/app/db", size: 30 }),
      input("accessor", "Token accessor (empty: this token)", { id: "cap-accessor", size: 30 }),
    ], "Check", async (values) => {
      const doc = values.accessor
        ? await vault("POST", "sys/capabilities-accessor", { accessor: values.accessor, paths: [values.path] })
        : await native("POST", "sys/capabilities-self", { paths: [values.path] });
      const caps = (doc.data || doc)[values.path] || doc.capabilities || [];
      mount(result, h("p", {}, `${values.path}: `, h("strong", {}, caps.join(", ") || "deny")));
    }),
    result);
}

async function tokens(el) {
  titled("Tokens");
  const self = (await native("GET", "auth/token/lookup-self")).data;
  const made = h("div", {});
  const accessors = h("div", {});
  const showAccessors = async () => {
    try {
      const doc = await native("GET", "auth/token/accessors");
      mount(accessors, table(["Accessor", ""], doc.keys.map((accessor) => [h("code", {}, accessor), h("div", { class: "row" },
        button("Look up", async () => {
          try {
            const info = (await vault("POST", "auth/token/lookup-accessor", { accessor })).data;
            mount(made, h("div", { class: "card" }, table(["", ""], [
              ["Name", info.display_name], ["Policies", list(info.policies)], ["Created", when(info.creation_time)],
              ["Expires", when(info.expire_time)], ["Uses left", String(info.num_uses || "unlimited")]])));
          } catch (error) {
            mount(made, notice(error.message));
          }
        }),
        dangerButton("Revoke", async () => {
          try {
            await vault("POST", "auth/token/revoke-accessor", { accessor });
            await showAccessors();
          } catch (error) {
            mount(made, notice(error.message));
          }
        }))])));
    } catch (error) {
      mount(accessors, notice(error.status === 403 ? "Listing tokens needs sudo on auth/token/accessors." : error.message, "warn"));
    }
  };
  mount(el, h("h1", {}, "Tokens"),
    h("div", { class: "card" }, h("h2", {}, "This token"), table(["", ""], [
      ["Name", self.display_name], ["Accessor", h("code", {}, self.accessor)], ["Policies", list(self.policies)],
      ["Created", when(self.creation_time)], ["Expires", when(self.expire_time)], ["Renewable", self.renewable ? "yes" : "no"]])),
    h("h2", {}, "Create a token"),
    form([
      input("policies", "Policies", { placeholder: "default, reader" }),
      input("ttl", "TTL", { placeholder: "1h", size: 6 }),
      input("num_uses", "Uses (0: unlimited)", { type: "number", min: 0, value: 0, size: 4 }),
      input("display_name", "Name"),
    ], "Create token", async (values) => {
      const body = { policies: splitList(values.policies), display_name: values.display_name, num_uses: Number(values.num_uses || 0) };
      if (values.ttl) body.ttl = values.ttl;
      const auth = (await native("POST", "auth/token/create", body)).auth;
      mount(made, shownOnce("New token", [["Token", auth.client_token], ["Accessor", auth.accessor]]));
      await showAccessors();
    }),
    made,
    h("h2", {}, "Tokens by accessor"),
    accessors);
  await showAccessors();
}

async function approle(el, [name]) {
  titled("AppRole roles");
  const status = h("div", {});
  let roles = [];
  try {
    roles = (await native("GET", "auth/approle/role")).keys;
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  const detail = h("div", {});
  if (name !== undefined) {
    const role = (await native("GET", ["auth", "approle", "role", name])).data;
    const roleId = (await native("GET", ["auth", "approle", "role", name, "role-id"])).data.role_id;
    mount(detail, h("div", { class: "card" }, h("h2", {}, `Role ${name}`),
      table(["", ""], [["Role ID", h("code", {}, roleId)], ["Policies", list(role.token_policies)],
        ["Token TTL", role.token_ttl ? `${role.token_ttl} s` : "—"], ["Secret ID TTL", role.secret_id_ttl ? `${role.secret_id_ttl} s` : "—"]]),
      h("div", { class: "row" },
        button("Generate secret ID", async () => {
          try {
            const made = (await native("POST", ["auth", "approle", "role", name, "secret-id"], {})).data;
            mount(status, shownOnce("New secret ID", [["Secret ID", made.secret_id], ["Accessor", made.secret_id_accessor]]));
          } catch (error) {
            mount(status, notice(error.message));
          }
        }),
        dangerButton("Delete role", async () => {
          try {
            await native("DELETE", ["auth", "approle", "role", name]);
            moveOn(el, "#/approle");
          } catch (error) {
            mount(status, notice(error.message));
          }
        }))));
  }
  mount(el, h("h1", {}, "AppRole roles"), status,
    table(["Role"], roles.map((role) => [link(role, "approle", role)]), "No roles."),
    detail,
    h("h2", {}, "Create or update a role"),
    form([
      input("name", "Name", { value: name || "" }),
      input("token_policies", "Policies", { placeholder: "default" }),
      input("token_ttl", "Token TTL", { placeholder: "1h", size: 6 }),
      input("secret_id_ttl", "Secret ID TTL", { placeholder: "24h", size: 6 }),
    ], "Save role", async (values) => {
      const body = { token_policies: splitList(values.token_policies) };
      if (values.token_ttl) body.token_ttl = values.token_ttl;
      if (values.secret_id_ttl) body.secret_id_ttl = values.secret_id_ttl;
      await native("PUT", ["auth", "approle", "role", values.name], body);
      moveOn(el, "#/approle/" + encodeURIComponent(values.name));
    }));
}

async function userpass(el) {
  titled("Userpass users");
  const status = h("div", {});
  let users = [];
  try {
    users = (await native("GET", "auth/userpass/users")).keys;
  } catch (error) {
    if (error.status !== 404) throw error;
  }
  mount(el, h("h1", {}, "Userpass users"), status,
    table(["User", ""], users.map((user) => [user, dangerButton("Delete", async () => {
      try {
        await native("DELETE", ["auth", "userpass", "users", user]);
        await userpass(el);
      } catch (error) {
        mount(status, notice(error.message));
      }
    })]), "No users."),
    h("h2", {}, "Create or update a user"),
    form([
      input("name", "Username"),
      h("label", {}, "Password", h("input", { name: "password", type: "password", autocomplete: "new-password" })),
      input("token_policies", "Policies", { placeholder: "default" }),
    ], "Save user", async (values) => {
      await native("PUT", ["auth", "userpass", "users", values.name], { password: values.password, token_policies: splitList(values.token_policies) });
      await userpass(el);
    }));
}

async function awsKeys(el) {
  titled("AWS access keys");
  const status = h("div", {});
  const keys = (await native("GET", "sys/aws/credentials")).data.keys;
  mount(el, h("h1", {}, "AWS access keys"),
    h("p", { class: "muted" }, "Keys for the AWS-compatible API (boto3, the AWS CLI). A key carries the policies of the token that made it, at most."),
    status,
    table(["Access key ID", "Name", "Policies", "Created", ""], keys.map((key) => [h("code", {}, key.access_key_id), key.display_name || "—",
      list(key.policies), when(key.created), dangerButton("Revoke", async () => {
        try {
          await native("DELETE", ["sys", "aws", "credentials", key.access_key_id]);
          await awsKeys(el);
        } catch (error) {
          mount(status, notice(error.message));
        }
      })]), "No keys."),
    h("h2", {}, "Create a key"),
    form([input("display_name", "Name"), input("policies", "Policies", { placeholder: "default" })], "Create key", async (values) => {
      const made = (await native("POST", "sys/aws/credentials", { display_name: values.display_name, policies: splitList(values.policies) })).data;
      await awsKeys(el);
      mount(el.querySelector("div"), shownOnce("New AWS key", [["Access key ID", made.access_key_id], ["Secret access key", made.secret_access_key]]));
    }));
}

export const accessPages = { policies, tokens, approle, userpass, "aws-keys": awsKeys };
