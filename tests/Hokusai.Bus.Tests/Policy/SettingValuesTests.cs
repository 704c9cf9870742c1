namespace Hokusai.Bus.Tests.Policy;

/// <summary>The shared readers of setting values that the host, the CLI and the plugin all use.</summary>
public sealed class SettingValuesTests
{
    [Theory]
    [InlineData("amqp://guest:s3cret@rabbit:5672/prod", "amqp://guest:***@rabbit:5672/prod")]
    [InlineData("amqps://hokusai:p%40ss@rabbit.internal/", "amqps://hokusai:***@rabbit.internal/")]
    [InlineData("amqp://hokusai@rabbit:5672/", "amqp://hokusai@rabbit:5672/")]
    [InlineData("amqp://rabbit:5672/", "amqp://rabbit:5672/")]
    public void A_broker_url_is_shown_with_its_user_and_without_its_password(string url, string shown) =>
        Assert.Equal(shown, SettingValues.WithoutPassword(new Uri(url)));

    [Fact]
    public void A_secret_file_is_read_whole_with_trailing_newlines_trimmed_and_a_missing_one_says_so()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "line one\nline two\r\n\n");
            Assert.True(SettingValues.TryReadSecret("S", null, "S_FILE", file, out var secret, out _));
            Assert.Equal("line one\nline two", secret);
            Assert.False(SettingValues.TryReadSecret("S", "inline", "S_FILE", file, out _, out var both));
            Assert.Equal("S and S_FILE are both set; set one of them.", both);
        }
        finally
        {
            File.Delete(file);
        }

        Assert.False(SettingValues.TryReadSecret("S", null, "S_FILE", file, out var none, out var problem));
        Assert.Equal("", none);
        Assert.Equal($"S_FILE names {file}, but it does not exist.", problem);
        Assert.True(SettingValues.TryReadSecret("S", "inline", "S_FILE", "", out var given, out _));
        Assert.Equal("inline", given);
    }
}
