import json, hmac, hashlib, os, copy, urllib.parse
SECRET=b"pushline-test-secret"
ROOT=os.path.dirname(os.path.abspath(__file__))
def write(provider, case, body, headers, sig=None):
    d=os.path.join(ROOT,provider); os.makedirs(d,exist_ok=True)
    if isinstance(body,(dict,list)):
        raw=(json.dumps(body,indent=2,ensure_ascii=False)+"\n").encode()
        ext=".json"
    else:
        raw=body; ext=".form"
    h=dict(headers)
    mac=hmac.new(SECRET,raw,hashlib.sha256).hexdigest()
    if sig=="github":
        h["X-Hub-Signature"]="sha1="+hmac.new(SECRET,raw,hashlib.sha1).hexdigest()
        h["X-Hub-Signature-256"]="sha256="+mac
    elif sig=="bitbucket":
        h["X-Hub-Signature"]="sha256="+mac
    elif sig=="gitea":
        h["X-Gitea-Signature"]=mac
        h["X-Hub-Signature-256"]="sha256="+mac
    elif sig=="forgejo":
        h["X-Forgejo-Signature"]=mac
        h["X-Gitea-Signature"]=mac
        h["X-Hub-Signature-256"]="sha256="+mac
    elif sig=="gitlab":
        h["X-Gitlab-Token"]=SECRET.decode()
    open(os.path.join(d,case+ext),"wb").write(raw)
    open(os.path.join(d,case+".headers.json"),"w").write(json.dumps(h,indent=2,sort_keys=True)+"\n")

# ---------------- GitHub (octokit examples, verbatim) ----------------
ex=json.load(open(os.path.join(ROOT,"../../node_modules")+"/@octokit/webhooks-examples/api.github.com/index.json"))
gh={e["name"]:e["examples"] for e in ex}
def ghh(event, did):
    return {"Content-Type":"application/json","User-Agent":"GitHub-Hookshot/044aadd","X-GitHub-Event":event,
            "X-GitHub-Delivery":did,"X-GitHub-Hook-ID":"292430182",
            "X-GitHub-Hook-Installation-Target-ID":"186853002","X-GitHub-Hook-Installation-Target-Type":"repository"}
write("github","push-branch-created",gh["push"][4],ghh("push","72d3162e-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","push-tag-created",gh["push"][0],ghh("push","a1c0e3a0-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","push-tag-deleted",gh["push"][1],ghh("push","b6e2f4a0-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","ping",gh["ping"][3],ghh("ping","c0ffee00-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","issues-opened",gh["issues"][0],ghh("issues","d00dfeed-cc78-11e3-81ab-4c9367dc0958"),"github")
# branch update built from the branch-created example: 3 commits on master.
up=copy.deepcopy(gh["push"][4])
base=up["commits"][0]
up["before"]=base["id"]; up["created"]=False
cs=[]
for i,(sha,msg,files) in enumerate([
    ("0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","Add build spec",{"added":["buildspec.yml"],"removed":[],"modified":[]}),
    ("a10867b14bb761a232cd80139fbd4c0d33264240","Fix the parser\n\nLonger description.",{"added":[],"removed":[],"modified":["src/parse.go","README.md"]}),
    ("25d6d9e64a7bc5d1c1a2e0c4f8fbbd6a2b5c7e11","Update docs",{"added":["docs/guide.md"],"removed":["docs/old.md"],"modified":["src/parse.go"]})]):
    c=copy.deepcopy(base); c["id"]=sha; c["message"]=msg; c["tree_id"]="%040x"%(i+1)
    c["url"]="https://github.com/Codertocat/Hello-World/commit/"+sha; c["timestamp"]="2019-05-15T16:0%d:00Z"%i
    c.update(files); cs.append(c)
up["commits"]=cs; up["head_commit"]=copy.deepcopy(cs[-1]); up["after"]=cs[-1]["id"]
up["compare"]="https://github.com/Codertocat/Hello-World/compare/6113728f27ae...25d6d9e64a7b"
write("github","push-branch",up,ghh("push","e1f2a3b4-cc78-11e3-81ab-4c9367dc0958"),"github")
skip=copy.deepcopy(up); skip["head_commit"]["message"]="Update docs [skip ci]"; skip["commits"][-1]["message"]="Update docs [skip ci]"
write("github","push-skip-ci",skip,ghh("push","e1f2a3b5-cc78-11e3-81ab-4c9367dc0958"),"github")
# the same branch update, form-encoded (content type "application/x-www-form-urlencoded")
form=("payload="+urllib.parse.quote_plus(json.dumps(up,separators=(",",":")))).encode()
h=ghh("push","f00ba400-cc78-11e3-81ab-4c9367dc0958"); h["Content-Type"]="application/x-www-form-urlencoded"
write("github","push-branch-form",form,h,"github")

# ---------------- GitLab (docs: "Push events", "Tag events") ----------------
glproj={"id":15,"name":"Diaspora","description":"","web_url":"http://example.com/mike/diaspora","avatar_url":None,
  "git_ssh_url":"git@example.com:mike/diaspora.git","git_http_url":"http://example.com/mike/diaspora.git",
  "namespace":"Mike","visibility_level":0,"path_with_namespace":"mike/diaspora","default_branch":"master",
  "homepage":"http://example.com/mike/diaspora","url":"git@example.com:mike/diaspora.git",
  "ssh_url":"git@example.com:mike/diaspora.git","http_url":"http://example.com/mike/diaspora.git"}
glrepo={"name":"Diaspora","url":"git@example.com:mike/diaspora.git","description":"","homepage":"http://example.com/mike/diaspora",
  "git_http_url":"http://example.com/mike/diaspora.git","git_ssh_url":"git@example.com:mike/diaspora.git","visibility_level":0}
glpush={"object_kind":"push","event_name":"push","before":"95790bf891e76fee5e1747ab589903a6a1f80f22",
 "after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","ref":"refs/heads/master","ref_protected":True,
 "checkout_sha":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","message":"Hello World","user_id":4,
 "user_name":"John Smith","user_username":"jsmith","user_email":"john@example.com",
 "user_avatar":"https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
 "project_id":15,"project":glproj,
 "commits":[
  {"id":"b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327","message":"Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information",
   "title":"Update Catalan translation to e38cb41.","timestamp":"2011-12-12T14:27:31+02:00",
   "url":"http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327",
   "author":{"name":"Jordi Mallach","email":"jordi@softcatala.org"},"added":["CHANGELOG"],"modified":["app/controller/application.rb"],"removed":[]},
  {"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","message":"fixed readme","title":"fixed readme",
   "timestamp":"2012-01-03T23:36:29+02:00","url":"http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
   "author":{"name":"GitLab dev user","email":"gitlabdev@dv6700.(none)"},"added":["CHANGELOG"],"modified":["app/controller/application.rb"],"removed":[]}],
 "total_commits_count":4,"push_options":{},"repository":glrepo}
def glh(event, uuid):
    return {"Content-Type":"application/json","User-Agent":"GitLab/17.6.0","X-Gitlab-Event":event,
            "X-Gitlab-Event-UUID":uuid,"X-Gitlab-Webhook-UUID":"0b2d6a9c-65f3-4ae7-9e0f-1a2b3c4d5e6f","X-Gitlab-Instance":"http://example.com"}
# total_commits_count 4 > 2 listed: the file list is incomplete (docs example as published)
write("gitlab","push-truncated",glpush,glh("Push Hook","13792a34-cac6-4fda-95a8-c58e00a3954e"),"gitlab")
full=copy.deepcopy(glpush); full["total_commits_count"]=2
write("gitlab","push",full,glh("Push Hook","13792a34-cac6-4fda-95a8-c58e00a3954f"),"gitlab")
gltag={"object_kind":"tag_push","event_name":"tag_push","before":"0000000000000000000000000000000000000000",
 "after":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7","ref":"refs/tags/v1.0.0","ref_protected":True,
 "checkout_sha":"82b3d5ae55f7080f1e6022629cdb57bfae7cccc7","message":"Tag message","user_id":1,"user_name":"John Smith",
 "user_username":"jsmith","user_avatar":"https://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=8://s.gravatar.com/avatar/d4c74594d841139328695756648b6bd6?s=80",
 "project_id":1,"project":dict(glproj,id=1,name="Example",web_url="http://example.com/jsmith/example",path_with_namespace="jsmith/example",
   git_http_url="http://example.com/jsmith/example.git",git_ssh_url="git@example.com:jsmith/example.git",namespace="Jsmith"),
 "commits":[],"total_commits_count":0,"push_options":{},"repository":dict(glrepo,name="Example")}
write("gitlab","tag-push",gltag,glh("Tag Push Hook","6a3c0b5e-7a8d-4b3c-9d2e-1f0a9b8c7d6e"),"gitlab")
gldel=copy.deepcopy(full); gldel.update({"before":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","after":"0000000000000000000000000000000000000000",
  "checkout_sha":None,"ref":"refs/heads/feature/old","commits":[],"total_commits_count":0,"message":None})
write("gitlab","push-branch-deleted",gldel,glh("Push Hook","7b4d1c6f-8b9e-4c4d-ae3f-2a1b0c9d8e7f"),"gitlab")
glmr={"object_kind":"merge_request","event_type":"merge_request","user":{"id":1,"name":"Administrator","username":"root"},
 "project":glproj,"object_attributes":{"id":99,"iid":1,"target_branch":"master","source_branch":"ms-viewport","state":"opened","action":"open"}}
write("gitlab","merge-request",glmr,glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8a"),"gitlab")

# ---------------- Bitbucket Cloud (docs: "Event payloads", repo:push) ----------------
def bbuser(name, nick, uuid):
    return {"type":"user","display_name":name,"nickname":nick,"uuid":uuid,"account_id":"557058:"+uuid.strip("{}"),
            "links":{"self":{"href":"https://api.bitbucket.org/2.0/users/"+uuid},"html":{"href":"https://bitbucket.org/"+uuid+"/"},
                     "avatar":{"href":"https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/"+name[:2]+"-0.png"}}}
actor=bbuser("Emma Jones","emmaj","{a8b9c0d1-e2f3-4a5b-8c7d-9e0f1a2b3c4d}")
bbrepo={"type":"repository","full_name":"acme/app","name":"app","scm":"git","is_private":True,"uuid":"{11aa22bb-33cc-44dd-55ee-66ff77889900}",
  "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app"},"html":{"href":"https://bitbucket.org/acme/app"},
           "avatar":{"href":"https://bytebucket.org/ravatar/%7B11aa22bb-33cc-44dd-55ee-66ff77889900%7D?ts=default"}},
  "project":{"type":"project","key":"ACME","name":"Acme","uuid":"{22bb33cc-44dd-55ee-66ff-778899001122}"},
  "website":None,"owner":{"type":"team","display_name":"Acme","uuid":"{33cc44dd-55ee-66ff-7788-990011223344}"},"workspace":{"type":"workspace","slug":"acme","name":"Acme","uuid":"{33cc44dd-55ee-66ff-7788-990011223344}"}}
def bbcommit(sha,msg,date,parent=None):
    return {"type":"commit","hash":sha,"date":date,"message":msg,
     "author":{"type":"author","raw":"Emma Jones <emma@example.com>","user":actor},
     "parents":([{"type":"commit","hash":parent,"links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/commit/"+parent},"html":{"href":"https://bitbucket.org/acme/app/commits/"+parent}}}] if parent else []),
     "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/commit/"+sha},"html":{"href":"https://bitbucket.org/acme/app/commits/"+sha}},
     "summary":{"type":"rendered","raw":msg,"markup":"markdown","html":"<p>"+msg.strip()+"</p>"}}
def bbref(typ,name,commit):
    return {"type":typ,"name":name,"target":commit,
      "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/refs/%s/%s"%("branches" if typ=="branch" else "tags",name)},
               "commits":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/commits/"+name},
               "html":{"href":"https://bitbucket.org/acme/app/%s/%s"%("branch" if typ=="branch" else "commits/tag",name)}}}
old=bbcommit("1e65c05c1d5171631d92438a13901ca7dae9618c","Initial commit\n","2026-11-26T09:12:01+00:00")
new=bbcommit("03f4a7270240708834de475bcf21532d6134777e","Add build spec\n","2026-11-27T08:01:44+00:00","1e65c05c1d5171631d92438a13901ca7dae9618c")
def change(o,n,created=False,closed=False):
    return {"old":o,"new":n,"created":created,"closed":closed,"forced":False,"truncated":False,
     "commits":([n["target"]] if n else []),
     "links":{"commits":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/commits?include=03f4a72&exclude=1e65c05"},
              "html":{"href":"https://bitbucket.org/acme/app/branches/compare/03f4a72..1e65c05"},
              "diff":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/diff/03f4a72..1e65c05"}}}
def bbh(event,req):
    return {"Content-Type":"application/json","User-Agent":"Bitbucket-Webhooks/2.0","X-Event-Key":event,
            "X-Request-UUID":req,"X-Hook-UUID":"{5b9e1f2a-6c3d-4e8f-9a0b-1c2d3e4f5a6b}","X-Attempt-Number":"1",
            "X-Event-Time":"Fri, 27 Nov 2026 08:01:46 GMT"}
write("bitbucket","push",{"actor":actor,"repository":bbrepo,"push":{"changes":[change(bbref("branch","main",old),bbref("branch","main",new))]}},
      bbh("repo:push","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a00"),"bitbucket")
tagc=bbref("tag","v1.2.0",new); tagc["message"]="Release 1.2.0\n"; tagc["date"]="2026-11-27T08:05:00+00:00"; tagc["tagger"]={"type":"author","raw":"Emma Jones <emma@example.com>"}
fb=bbcommit("9fceb02d0ae598e95dc970b74767f19372d61af8","Start feature\n","2026-11-27T08:02:10+00:00","1e65c05c1d5171631d92438a13901ca7dae9618c")
write("bitbucket","push-multi",{"actor":actor,"repository":bbrepo,"push":{"changes":[
    change(bbref("branch","main",old),bbref("branch","main",new)),
    change(None,bbref("branch","feature/login",fb),created=True),
    change(None,tagc,created=True)]}},bbh("repo:push","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a01"),"bitbucket")
write("bitbucket","push-branch-deleted",{"actor":actor,"repository":bbrepo,"push":{"changes":[change(bbref("branch","feature/login",fb),None,closed=True)]}},
      bbh("repo:push","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a02"),"bitbucket")
write("bitbucket","pullrequest-created",{"actor":actor,"repository":bbrepo,"pullrequest":{"id":7,"title":"Login","state":"OPEN"}},
      bbh("pullrequest:created","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a03"),"bitbucket")

# ---------------- Gitea / Forgejo (docs: "Webhooks", push event example) ----------------
gtuser={"id":1,"login":"gitea","login_name":"","full_name":"Gitea","email":"someone@example.com","avatar_url":"https://gitea.example.com/avatars/1",
        "language":"","is_admin":False,"username":"gitea"}
gtrepo={"id":140,"owner":gtuser,"name":"webhooks","full_name":"gitea/webhooks","description":"","empty":False,"private":False,"fork":False,
  "html_url":"https://gitea.example.com/gitea/webhooks","ssh_url":"git@gitea.example.com:gitea/webhooks.git",
  "clone_url":"https://gitea.example.com/gitea/webhooks.git","website":"","stars_count":0,"forks_count":1,"watchers_count":1,
  "open_issues_count":7,"default_branch":"master","created_at":"2017-02-26T04:29:06-05:00","updated_at":"2017-03-13T13:51:58-04:00"}
gc={"id":"bffeb74224043ba2feb48d137756c8a9331c449a","message":"Webhooks Yay!","url":"https://gitea.example.com/gitea/webhooks/commit/bffeb74224043ba2feb48d137756c8a9331c449a",
  "author":{"name":"Gitea","email":"someone@example.com","username":"gitea"},"committer":{"name":"Gitea","email":"someone@example.com","username":"gitea"},
  "verification":None,"timestamp":"2017-03-13T13:52:11-04:00","added":["src/hooks.go"],"removed":[],"modified":["README.md"]}
gtpush={"ref":"refs/heads/develop","before":"28e1879d029cb852e4844d9c718537df08844e03","after":"bffeb74224043ba2feb48d137756c8a9331c449a",
  "compare_url":"https://gitea.example.com/gitea/webhooks/compare/28e1879d029cb852e4844d9c718537df08844e03...bffeb74224043ba2feb48d137756c8a9331c449a",
  "commits":[gc],"total_commits":1,"head_commit":gc,"repository":gtrepo,"pusher":gtuser,"sender":gtuser}
def gth(event,did,forgejo=False):
    h={"Content-Type":"application/json","User-Agent":"Go-http-client/1.1","X-Gitea-Event":event,"X-Gitea-Event-Type":event,
       "X-Gitea-Delivery":did,"X-Gitea-Hook-Installation-Target-Type":"repository","X-GitHub-Event":event,"X-GitHub-Event-Type":event,
       "X-GitHub-Delivery":did,"X-Gogs-Event":event,"X-Gogs-Event-Type":event,"X-Gogs-Delivery":did}
    if forgejo:
        h.update({"X-Forgejo-Event":event,"X-Forgejo-Event-Type":event,"X-Forgejo-Delivery":did})
    return h
write("gitea","push",gtpush,gth("push","f6266f16-1bf3-46a5-9ea4-602e06ead473"),"gitea")
fj=copy.deepcopy(gtpush)
write("gitea","push-forgejo",fj,gth("push","0b8f3c2e-4a7d-4e1b-9c5a-6d2e8f1a3b4c",True),"forgejo")
many=copy.deepcopy(gtpush); many["total_commits"]=7
write("gitea","push-truncated",many,gth("push","1c9a4d3f-5b8e-4f2c-8d6b-7e3f9a2b4c5d"),"gitea")
gtdel=copy.deepcopy(gtpush); gtdel.update({"ref":"refs/heads/develop","before":"bffeb74224043ba2feb48d137756c8a9331c449a",
  "after":"0000000000000000000000000000000000000000","commits":[],"total_commits":0,"head_commit":None,"compare_url":""})
write("gitea","push-branch-deleted",gtdel,gth("push","2d0b5e4a-6c9f-4a3d-9e7c-8f4a0b3c5d6e"),"gitea")
gttag=copy.deepcopy(gtpush); gttag.update({"ref":"refs/tags/v1.0.0","before":"0000000000000000000000000000000000000000","commits":[],"total_commits":0,"compare_url":""})
write("gitea","push-tag",gttag,gth("push","3e1c6f5b-7da0-4b4e-af8d-9a5b1c4d6e7f"),"gitea")
write("gitea","create",{"sha":"bffeb74224043ba2feb48d137756c8a9331c449a","ref":"v1.0.0","ref_type":"tag","repository":gtrepo,"sender":gtuser},
      gth("create","4f2d7a6c-8eb1-4c5f-b09e-ab6c2d5e7f80"),"gitea")

# ================= pull requests =================
# ---------------- GitHub pull_request (octokit examples) ----------------
ghpr=gh["pull_request"]
write("github","pull-request-opened",ghpr[12],ghh("pull_request","5a1b2c3d-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","pull-request-synchronize",ghpr[22],ghh("pull_request","5a1b2c3e-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","pull-request-reopened",ghpr[18],ghh("pull_request","5a1b2c3f-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","pull-request-closed",ghpr[3],ghh("pull_request","5a1b2c40-cc78-11e3-81ab-4c9367dc0958"),"github")
write("github","pull-request-labeled",ghpr[8],ghh("pull_request","5a1b2c41-cc78-11e3-81ab-4c9367dc0958"),"github")
# derived: a merged close, a draft, and a pull request from a fork (head.repo another repository)
merged=copy.deepcopy(ghpr[3]); merged["pull_request"]["merged"]=True
merged["pull_request"]["merged_at"]=merged["pull_request"]["closed_at"]
write("github","pull-request-merged",merged,ghh("pull_request","5a1b2c42-cc78-11e3-81ab-4c9367dc0958"),"github")
draft=copy.deepcopy(ghpr[12]); draft["pull_request"]["draft"]=True
write("github","pull-request-draft",draft,ghh("pull_request","5a1b2c43-cc78-11e3-81ab-4c9367dc0958"),"github")
fork=copy.deepcopy(ghpr[12]); hr=fork["pull_request"]["head"]
hr["label"]="octo-fork:changes"; hr["sha"]="9d8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f"
hr["repo"]=copy.deepcopy(hr["repo"]); hr["repo"].update({"id":186853003,"name":"Hello-World","full_name":"octo-fork/Hello-World","fork":True,
  "html_url":"https://github.com/octo-fork/Hello-World","clone_url":"https://github.com/octo-fork/Hello-World.git",
  "git_url":"git://github.com/octo-fork/Hello-World.git","ssh_url":"git@github.com:octo-fork/Hello-World.git",
  "url":"https://api.github.com/repos/octo-fork/Hello-World"})
hr["repo"]["owner"]=dict(hr["repo"]["owner"],login="octo-fork",id=21031068)
fork["number"]=3; fork["pull_request"]["number"]=3
fork["pull_request"]["html_url"]="https://github.com/Codertocat/Hello-World/pull/3"
write("github","pull-request-fork",fork,ghh("pull_request","5a1b2c44-cc78-11e3-81ab-4c9367dc0958"),"github")

# ---------------- GitLab Merge Request Hook (docs: "Merge request events") ----------------
gluser={"id":1,"name":"Administrator","username":"root","avatar_url":"http://www.gravatar.com/avatar/e64c7d89f26bd1972efa854d13d7dd61?s=40&d=identicon","email":"admin@example.com"}
glsrc=dict(glproj); gltgt=dict(glproj)
def glmrbody(action, state, extra=None, source=None, source_project_id=15, last=None):
    attrs={"id":99,"iid":1,"target_branch":"master","source_branch":"ms-viewport","source_project_id":source_project_id,
      "author_id":51,"assignee_ids":[6],"assignee_id":6,"reviewer_ids":[6],"title":"MS-Viewport","created_at":"2013-12-03T17:23:34Z",
      "updated_at":"2013-12-03T17:23:34Z","last_edited_at":"2013-12-03T17:23:34Z","last_edited_by_id":1,"milestone_id":None,
      "state_id":1,"state":state,"blocking_discussions_resolved":True,"work_in_progress":False,"draft":False,"first_contribution":True,
      "merge_status":"unchecked","target_project_id":15,"description":"","prepared_at":"2013-12-03T19:23:34Z","total_time_spent":1800,
      "time_change":30,"human_total_time_spent":"30m","human_time_change":"30s","human_time_estimate":"30m",
      "url":"http://example.com/mike/diaspora/-/merge_requests/1","source":source or glsrc,"target":gltgt,
      "last_commit":last or {"id":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","message":"fixed readme","title":"Update file README.md",
        "timestamp":"2012-01-03T23:36:29+02:00","url":"http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
        "author":{"name":"GitLab dev user","email":"gitlabdev@dv6700.(none)"}},
      "labels":[],"action":action,"detailed_merge_status":"mergeable"}
    attrs.update(extra or {})
    return {"object_kind":"merge_request","event_type":"merge_request","user":gluser,"project":glproj,"object_attributes":attrs,
      "labels":[],"changes":{},"repository":{"name":"Diaspora","url":"git@example.com:mike/diaspora.git","description":"","homepage":"http://example.com/mike/diaspora"},
      "assignees":[gluser],"reviewers":[gluser]}
write("gitlab","merge-request",glmrbody("open","opened"),glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8a"),"gitlab")
write("gitlab","merge-request-reopen",glmrbody("reopen","opened"),glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8b"),"gitlab")
write("gitlab","merge-request-update",glmrbody("update","opened",{"oldrev":"b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"}),
      glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8c"),"gitlab")
# an update without oldrev changed the title or labels, not the code
write("gitlab","merge-request-update-title",glmrbody("update","opened",{"title":"MS-Viewport (v2)"}),
      glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8d"),"gitlab")
write("gitlab","merge-request-close",glmrbody("close","closed"),glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8e"),"gitlab")
write("gitlab","merge-request-merge",glmrbody("merge","merged"),glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f8f"),"gitlab")
write("gitlab","merge-request-approved",glmrbody("approved","opened"),glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f90"),"gitlab")
write("gitlab","merge-request-draft",glmrbody("open","opened",{"draft":True,"work_in_progress":True,"title":"Draft: MS-Viewport"}),
      glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f91"),"gitlab")
glfork=dict(glproj,id=16,name="Diaspora",web_url="http://example.com/jdoe/diaspora",path_with_namespace="jdoe/diaspora",namespace="Jdoe",
  git_http_url="http://example.com/jdoe/diaspora.git",git_ssh_url="git@example.com:jdoe/diaspora.git",
  homepage="http://example.com/jdoe/diaspora",url="git@example.com:jdoe/diaspora.git",ssh_url="git@example.com:jdoe/diaspora.git",http_url="http://example.com/jdoe/diaspora.git")
glforkbody=glmrbody("open","opened",{"iid":2,"id":100,"url":"http://example.com/mike/diaspora/-/merge_requests/2"},source=glfork,source_project_id=16,
  last={"id":"c2a1e0d9b8f7e6d5c4b3a2918f7e6d5c4b3a2918","message":"Tweak the viewport\n","title":"Tweak the viewport",
        "timestamp":"2012-01-04T10:00:00+02:00","url":"http://example.com/jdoe/diaspora/commit/c2a1e0d9b8f7e6d5c4b3a2918f7e6d5c4b3a2918",
        "author":{"name":"Jane Doe","email":"jane@example.com"}})
write("gitlab","merge-request-fork",glforkbody,glh("Merge Request Hook","8c5e2d7a-9caf-4d5e-bf4a-3b2c1d0e9f92"),"gitlab")

# ---------------- Bitbucket Cloud pullrequest:* (docs: "Event payloads", Pull request entity) ----------------
# Bitbucket puts 12-hex-digit commit hashes in pull request payloads.
def bbrepo_of(full):
    r=copy.deepcopy(bbrepo); r["full_name"]=full; r["name"]=full.split("/")[1]
    for k in ("self","html"): r["links"][k]["href"]=r["links"][k]["href"].replace("acme/app",full)
    return r
def bbpr(state, src_repo="acme/app", src_hash="9fceb02d0ae5", pid=7, draft=False, title="Login"):
    pr={"type":"pullrequest","id":pid,"title":title,"description":"Adds the login page.","state":state,"draft":draft,
      "author":actor,"rendered":{},"summary":{"type":"rendered","raw":"Adds the login page.","markup":"markdown","html":"<p>Adds the login page.</p>"},
      "source":{"branch":{"name":"feature/login"},"commit":{"type":"commit","hash":src_hash,
          "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/%s/commit/%s"%(src_repo,src_hash)},"html":{"href":"https://bitbucket.org/%s/commits/%s"%(src_repo,src_hash)}}},
        "repository":bbrepo_of(src_repo)},
      "destination":{"branch":{"name":"main"},"commit":{"type":"commit","hash":"03f4a7270240",
          "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/commit/03f4a7270240"},"html":{"href":"https://bitbucket.org/acme/app/commits/03f4a7270240"}}},
        "repository":bbrepo_of("acme/app")},
      "merge_commit":None,"comment_count":0,"task_count":0,"close_source_branch":False,"closed_by":None,"reason":"",
      "created_on":"2026-11-27T08:03:00.000000+00:00","updated_on":"2026-11-27T08:03:00.000000+00:00","reviewers":[],"participants":[],
      "links":{"self":{"href":"https://api.bitbucket.org/2.0/repositories/acme/app/pullrequests/%d"%pid},
               "html":{"href":"https://bitbucket.org/acme/app/pull-requests/%d"%pid}}}
    return {"actor":actor,"repository":bbrepo,"pullrequest":pr}
write("bitbucket","pullrequest-created",bbpr("OPEN"),bbh("pullrequest:created","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a03"),"bitbucket")
write("bitbucket","pullrequest-updated",bbpr("OPEN",src_hash="5e8a1f3c9b2d"),bbh("pullrequest:updated","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a04"),"bitbucket")
ful=bbpr("MERGED"); ful["pullrequest"]["merge_commit"]={"type":"commit","hash":"7c3e9a1b2d4f"}; ful["pullrequest"]["closed_by"]=actor
write("bitbucket","pullrequest-fulfilled",ful,bbh("pullrequest:fulfilled","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a05"),"bitbucket")
rej=bbpr("DECLINED"); rej["pullrequest"]["closed_by"]=actor; rej["pullrequest"]["reason"]="Not needed"
write("bitbucket","pullrequest-rejected",rej,bbh("pullrequest:rejected","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a06"),"bitbucket")
write("bitbucket","pullrequest-fork",bbpr("OPEN",src_repo="emmaj/app",src_hash="b1d2e3f4a5c6",pid=8),bbh("pullrequest:created","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a07"),"bitbucket")
write("bitbucket","pullrequest-draft",bbpr("OPEN",pid=9,draft=True),bbh("pullrequest:created","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a08"),"bitbucket")
write("bitbucket","pullrequest-approved",dict(bbpr("OPEN"),approval={"date":"2026-11-27T08:10:00+00:00","user":actor}),
      bbh("pullrequest:approved","4d1c2b3a-0f9e-4d8c-b7a6-5e4d3c2b1a09"),"bitbucket")

# ---------------- Gitea / Forgejo pull_request (docs: "Webhooks", pull_request; the API's PullRequest) ----------------
def gtprbody(action, state="open", merged=False, number=1, head_repo=None, head_sha="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", draft=False):
    hrepo=head_repo or gtrepo
    return {"action":action,"number":number,"pull_request":{"id":20+number,"url":"https://gitea.example.com/gitea/webhooks/pulls/%d"%number,
      "number":number,"user":gtuser,"title":"Add webhook docs","body":"","labels":[],"milestone":None,"assignee":None,"assignees":None,
      "requested_reviewers":None,"state":state,"draft":draft,"is_locked":False,"comments":0,"additions":12,"deletions":1,"changed_files":2,
      "html_url":"https://gitea.example.com/gitea/webhooks/pulls/%d"%number,
      "diff_url":"https://gitea.example.com/gitea/webhooks/pulls/%d.diff"%number,"patch_url":"https://gitea.example.com/gitea/webhooks/pulls/%d.patch"%number,
      "mergeable":True,"merged":merged,"merged_at":("2017-03-14T10:00:00-04:00" if merged else None),"merge_commit_sha":None,"merged_by":None,
      "allow_maintainer_edit":False,
      "base":{"label":"master","ref":"master","sha":"bffeb74224043ba2feb48d137756c8a9331c449a","repo_id":140,"repo":gtrepo},
      "head":{"label":"docs","ref":"docs","sha":head_sha,"repo_id":hrepo["id"],"repo":hrepo},
      "merge_base":"bffeb74224043ba2feb48d137756c8a9331c449a","due_date":None,"created_at":"2017-03-14T09:00:00-04:00",
      "updated_at":"2017-03-14T09:30:00-04:00","closed_at":("2017-03-14T10:00:00-04:00" if state=="closed" else None),"pin_order":0},
      "requested_reviewer":None,"repository":gtrepo,"sender":gtuser,"commit_id":"","review":None}
def gtprh(did, typ="pull_request", forgejo=False):
    h=gth("pull_request",did,forgejo)
    for k in ("X-Gitea-Event-Type","X-GitHub-Event-Type","X-Gogs-Event-Type")+(("X-Forgejo-Event-Type",) if forgejo else ()):
        h[k]=typ
    return h
write("gitea","pull-request-opened",gtprbody("opened"),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a01"),"gitea")
write("gitea","pull-request-synchronized",gtprbody("synchronized",head_sha="b2c3d4e5f60718293a4b5c6d7e8f901234567890"),
      gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a02","pull_request_sync"),"gitea")
write("gitea","pull-request-reopened",gtprbody("reopened"),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a03"),"gitea")
write("gitea","pull-request-closed",gtprbody("closed",state="closed"),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a04"),"gitea")
write("gitea","pull-request-merged",gtprbody("closed",state="closed",merged=True),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a05"),"gitea")
write("gitea","pull-request-label-updated",gtprbody("label_updated"),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a06","pull_request_label"),"gitea")
gtfork=dict(gtrepo,id=141,full_name="alice/webhooks",fork=True,owner=dict(gtuser,id=2,login="alice",username="alice"),
  html_url="https://gitea.example.com/alice/webhooks",clone_url="https://gitea.example.com/alice/webhooks.git",ssh_url="git@gitea.example.com:alice/webhooks.git")
write("gitea","pull-request-fork",gtprbody("opened",number=2,head_repo=gtfork,head_sha="c3d4e5f60718293a4b5c6d7e8f90123456789012"),
      gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a07"),"gitea")
write("gitea","pull-request-forgejo",gtprbody("opened",number=3,draft=True),gtprh("7a0e1f2b-3c4d-4e5f-8a9b-0c1d2e3f4a08",forgejo=True),"forgejo")
