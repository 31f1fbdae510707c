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
